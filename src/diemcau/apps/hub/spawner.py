"""The spawner of staff servers on one machine: each server runs as its own unprivileged system user.

``IsolatedSpawner`` is JupyterHub's ``LocalProcessSpawner`` with The Littlest JupyterHub's idea added: the
hub user ``42000001`` gets the system user ``jupyter-42000001`` (``diemcau.core.system_user``), created on
first spawn with a private home. Before each spawn the platform's state (the data directory and the other
``private_paths``) is made private to the hub's user again, so code in a staff server's kernel, in JupyterLab
or behind a Voila page reaches data only through the API, with its owner's token and scopes. Terminals are
off for everyone outside ``terminal_groups`` (the admins). Without root the spawn fails with a message; it
never falls back to the hub's own user. Why and what each role reaches: docs/security/isolation.md.

Stopping a server (its owner, the idle culler, the hub's own shutdown) ends every process of its system user,
not only the server's: the studio's Streamlit (which can sit out SIGTERM while a session is open), kernels
(each in a session of its own) and anything code in a kernel started and detached. Timeouts are short, so a
Ctrl-C stops the platform within seconds (docs/architecture.md, "Stopping").
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner, SpawnException, set_user_setuid
from traitlets import Float, Integer, List, Unicode

from diemcau.adapters.system_users import (
    IsolationUnavailable,
    SystemUser,
    end_processes_of,
    ensure_system_user,
    make_private,
    uid_of,
)
from diemcau.core.system_user import system_username
from diemcau.i18n import t

NO_TERMINALS = "--ServerApp.terminals_enabled=False"


def terminal_args(groups: set[str], terminal_groups: list[str]) -> list[str]:
    """Jupyter Server arguments that turn terminals off for a user in none of ``terminal_groups`` (also used by
    the staff pods' spawner on Kubernetes, ``diemcau.apps.hub.kubernetes.StaffPodSpawner``)."""
    return [] if groups & set(terminal_groups) else [NO_TERMINALS]


class IsolatedSpawner(LocalProcessSpawner):
    """A local server as the hub user's own unprivileged system user (created on first spawn)."""

    system_user_prefix = Unicode(
        "jupyter-", help="Prefix of the system user names (``jupyter-<hub name>``, as in TLJH)."
    ).tag(config=True)
    homes_dir = Unicode(
        "/home", help="Folder of the system users' homes (``<homes_dir>/<system user>``, each 0700)."
    ).tag(config=True)
    private_paths = List(
        Unicode(), help="Folders made private to the hub's user (mode 0700) before each spawn: the platform's state."
    ).tag(config=True)
    terminal_groups = List(
        Unicode(), ["role-admin"], help="Hub groups whose servers keep JupyterLab's terminals; others have none."
    ).tag(config=True)
    interrupt_timeout = Integer(
        5, help="Seconds a server not stopped through its account has to exit after SIGINT before SIGTERM."
    ).tag(config=True)
    term_timeout = Integer(3, help="Seconds such a server has to exit after SIGTERM before SIGKILL.").tag(config=True)
    leftover_grace = Float(
        3, help="Seconds the processes of a stopping server's account have after SIGTERM before SIGKILL."
    ).tag(config=True)

    _account: SystemUser | None = None

    @property
    def system_username(self) -> str:
        """The Linux user this hub user's server runs as."""
        return system_username(self.user.name, self.system_user_prefix)

    async def start(self) -> tuple[str, int]:
        """Lock the state down, make sure the account and its home exist, then start the server as it."""
        try:
            self._account = await asyncio.to_thread(self._prepare)
        except IsolationUnavailable as exc:
            raise SpawnException(
                t("hub.isolation_unavailable"), reason="isolation", log_message=str(exc), status_code=503
            ) from exc
        return await super().start()

    async def stop(self, now: bool = False) -> None:
        """End every process of the server's system user at once (SIGTERM, SIGKILL after ``leftover_grace``): the
        server, Streamlit, kernels, whatever they started. Then ``LocalProcessSpawner.stop`` reaps the server (or,
        while another named server of the same hub user runs as that account, stops this one alone)."""
        if not any(other is not self and other.active for other in self.user.spawners.values()):
            uid = await asyncio.to_thread(uid_of, self.system_username)
            if uid is not None:
                ended = await asyncio.to_thread(end_processes_of, uid, self.leftover_grace)
                self.log.debug("Ended %d process(es) of %s", len(ended), self.system_username)
        await super().stop(now=now)

    def _prepare(self) -> SystemUser:
        for path in self.private_paths:
            make_private(Path(path))
        return ensure_system_user(self.system_username, Path(self.homes_dir) / self.system_username)

    def get_args(self) -> list[str]:
        """The usual arguments, plus terminals off unless the user is in one of ``terminal_groups``."""
        groups = {group.name for group in self.user.groups}
        return [*super().get_args(), *terminal_args(groups, self.terminal_groups)]

    def make_preexec_fn(self, name: str):  # type: ignore[no-untyped-def]
        """Drop to the system user (its own group only) and enter its home; ``name`` (the hub name) is unused."""
        account = self._require_account()
        become = set_user_setuid(account.name, chdir=False)
        home = str(account.home)

        def preexec() -> None:
            become()
            os.chdir(home)

        return preexec

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        """``USER``, ``HOME`` and ``SHELL`` of the system user."""
        account = self._require_account()
        env.update(USER=account.name, HOME=str(account.home), SHELL="/bin/bash")
        return env

    async def move_certs(self, paths: dict[str, str]) -> dict[str, str]:
        """Internal SSL is not supported here (the hub's certificates would need handing to each account)."""
        raise SpawnException(
            t("hub.isolation_unavailable"),
            reason="isolation",
            status_code=503,
            log_message="JupyterHub.internal_ssl is not supported by IsolatedSpawner",
        )

    def _require_account(self) -> SystemUser:
        if self._account is None:  # start() sets it; anything else reaching here would run unprivileged code as us
            raise SpawnException(
                t("hub.isolation_unavailable"),
                reason="isolation",
                status_code=503,
                log_message="IsolatedSpawner used before start() made its system user",
            )
        return self._account
