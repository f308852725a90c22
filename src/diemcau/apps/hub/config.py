"""Configure JupyterHub from Điểm Cầu settings: pure functions that only *set* values on a traitlets Config.

``apply_config(settings, c, paths)`` is the whole story; each ``update_*`` helper owns one concern, so the
configuration can be tested on a bare ``traitlets.config.Config`` without starting a hub.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

from diemcau.core.roles import Role
from diemcau.i18n import load_catalogue
from diemcau.settings import Settings

API_SERVICE_NAME = "diemcau"
CULLER_SERVICE_NAME = "idle-culler"
WORKER_SERVICE_NAME = "worker"
API_TOKEN_FILE = "api_service_token"
STAFF_GROUPS = ["role-trainer", "role-secretary", "role-committee", "role-admin"]


@dataclass(frozen=True)
class HubPaths:
    """Where the hub finds its templates, its proxy and the Python that runs services."""

    templates: Path
    proxy_command: str
    python: str
    bin_path: str

    @classmethod
    def discover(cls, repo_root: Path) -> HubPaths:
        """Locate the templates beside the config and the proxy: node_modules' through ``hub_config/proxy.js``
        (CHP with a bad percent-encoding answered 404, not 500), else one on PATH."""
        local_proxy = repo_root / "node_modules" / ".bin" / "configurable-http-proxy"
        wrapped = repo_root / "hub_config" / "proxy.js"
        proxy = str(wrapped) if local_proxy.exists() else (shutil.which("configurable-http-proxy") or "")
        bin_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        templates = repo_root / "hub_config" / "templates"
        return cls(templates, proxy, sys.executable, bin_path)


def update_network(c: Config, settings: Settings) -> None:
    c.JupyterHub.bind_url = f"http://{settings.hub.ip}:{settings.hub.port}/"
    hub_ip = settings.hub.hub_ip
    host = f"[{hub_ip}]" if ":" in hub_ip else hub_ip
    c.JupyterHub.hub_bind_url = f"http://{host}:{settings.hub.hub_port}"
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.hub.proxy_api_port}"


def update_state(c: Config, settings: Settings) -> None:
    hub_dir = settings.hub_dir
    c.JupyterHub.db_url = f"sqlite:///{hub_dir / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(hub_dir / "jupyterhub_cookie_secret")
    c.ConfigurableHTTPProxy.pid_file = str(hub_dir / "jupyterhub-proxy.pid")


def update_proxy(c: Config, paths: HubPaths) -> None:
    if paths.proxy_command:
        c.ConfigurableHTTPProxy.command = [paths.proxy_command]


def update_auth(c: Config, settings: Settings) -> None:
    if settings.hub.authenticator != "roster":
        return  # LDAP/OAuth deployments configure it in hub_config/jupyterhub_config.d/*.py
    c.JupyterHub.authenticator_class = "diemcau.apps.hub.authenticator.RosterAuthenticator"
    c.RosterAuthenticator.database_url = settings.database_url
    auth = settings.auth
    c.RosterAuthenticator.min_password_length = auth.min_password_length
    c.RosterAuthenticator.free_failures = auth.free_failures
    c.RosterAuthenticator.account_free_failures = auth.account_free_failures
    c.RosterAuthenticator.address_free_failures = auth.address_free_failures
    c.RosterAuthenticator.max_wait_seconds = auth.max_wait_seconds
    c.RosterAuthenticator.address_max_wait_seconds = auth.address_max_wait_seconds
    c.RosterAuthenticator.forget_after_minutes = auth.forget_after_minutes
    c.RosterAuthenticator.trusted_proxies = list(auth.trusted_proxies)
    c.RosterAuthenticator.argon2_time_cost = auth.argon2_time_cost
    c.RosterAuthenticator.argon2_memory_kib = auth.argon2_memory_kib
    c.RosterAuthenticator.argon2_parallelism = auth.argon2_parallelism


def platform_roles() -> list[dict[str, object]]:
    """The hub roles of the platform, the idle culler's aside (the Zero to JupyterHub chart defines its own)."""
    return [
        {
            "name": "user",
            "description": "Every member: their own identity, and the Điểm Cầu services.",
            "scopes": ["read:users:name!user", "read:users:groups!user", "access:services"],
        },
        {
            "name": "diemcau-staff",
            "description": "Trainers, secretaries, committees: their own Jupyter server for dashboards and grading.",
            "scopes": ["self"],
            # JupyterHub creates these groups if missing; the authenticator fills them at login.
            "groups": STAFF_GROUPS,
        },
        {
            "name": "server",
            "description": "Single-user servers: the defaults, plus calling the API with the owner's identity.",
            "scopes": ["users:activity!user", "access:servers!server", f"access:services!service={API_SERVICE_NAME}"],
        },
        {
            "name": "diemcau-api",
            "description": "The API service: look up users and groups to authorise requests.",
            "scopes": ["read:users", "read:groups", "list:users"],
            "services": [API_SERVICE_NAME],
        },
    ]


def update_roles(c: Config) -> None:
    """Members may use services (the portal) but not start servers; staff groups may start their own."""
    c.JupyterHub.load_roles = [
        *platform_roles(),
        {
            "name": "idle-culler",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": [CULLER_SERVICE_NAME],
        },
    ]


def private_paths(settings: Settings, paths: HubPaths) -> list[Path]:
    """What no staff server may read: the data directory (app and hub databases, cookie secret, media, queue,
    nbgrader), the transcript store (unpublished lectures, correction history) and the deployment's hub
    config folder (LDAP or OAuth secrets). Local folders, not stores: what is hidden is a file-system path."""
    return [settings.home, settings.transcripts_dir, paths.templates.parent / "jupyterhub_config.d"]


def update_spawner(c: Config, settings: Settings, paths: HubPaths) -> None:
    """Each staff server as its own unprivileged system user, reaching data only through the API (see
    diemcau.apps.hub.spawner and docs/security/isolation.md); KubeSpawner replaces it on Kubernetes."""
    c.JupyterHub.spawner_class = "diemcau.apps.hub.spawner.IsolatedSpawner"
    c.IsolatedSpawner.homes_dir = str(settings.hub.homes_dir)
    c.IsolatedSpawner.system_user_prefix = settings.hub.system_user_prefix
    c.IsolatedSpawner.private_paths = [str(path) for path in private_paths(settings, paths)]
    c.IsolatedSpawner.terminal_groups = [f"role-{Role.ADMIN}"]
    c.Spawner.default_url = "/lab"
    # Notebooks (Voila dashboards, search) call the API straight (on loopback, or through nginx's upstream of
    # replicas when hub.api_url is set) with the user's own token; no
    # other DIEMCAU_* variable (database URL, data directory) reaches a server.
    api_url = api_service_url(settings)
    c.Spawner.environment = {"PATH": paths.bin_path, **staff_server_environment(paths, api_url)}
    c.Spawner.notebook_dir = staff_notebook_dir(paths)


def staff_notebook_dir(paths: HubPaths) -> str:
    """Staff servers open in the repo's notebooks/ (readable, not writable, by their users), so
    /user/<name>/voila/render/cell.ipynb works."""
    return str(paths.templates.parent.parent / "notebooks")


def staff_server_environment(paths: HubPaths, api_url: str) -> dict[str, str]:
    """What a staff server is told, and nothing else (no database URL, no data directory): where the API is
    (``api_url``, its origin), Voila's settings (extension denylist, kernel culling: hub_config/
    jupyter_server_config.py on JUPYTER_CONFIG_PATH) and Điểm Cầu's Voila template (hub_config/jupyter/voila/
    templates/diemcau on JUPYTER_PATH)."""
    hub_config = paths.templates.parent
    return {
        "DIEMCAU_API_URL": f"{api_url.rstrip('/')}/services/{API_SERVICE_NAME}",
        "JUPYTER_CONFIG_PATH": str(hub_config),
        "JUPYTER_PATH": str(hub_config / "jupyter"),
    }


def service_environment(settings: Settings, paths: HubPaths) -> dict[str, str]:
    """Managed services inherit HOME; give them their own Jupyter dirs and the venv's bin on PATH."""
    env = {
        "DIEMCAU_HOME": str(settings.home),
        "JUPYTER_DATA_DIR": str(settings.hub_dir / "service" / "jupyter"),
        "IPYTHONDIR": str(settings.hub_dir / "service" / "ipython"),
        "PATH": paths.bin_path,
    }
    for name, value in os.environ.items():
        if name.startswith("DIEMCAU_") and name != "DIEMCAU_HOME":
            env[name] = value
    return env


def api_service_options() -> dict[str, object]:
    """The API service as the hub knows it, wherever it runs: its name, a link on the hub's home page, and a
    login that asks no confirmation and hands the service only the member's name and groups."""
    return {
        "name": API_SERVICE_NAME,
        "display": True,
        "oauth_no_confirm": True,
        "oauth_client_allowed_scopes": ["read:users:name!user", "read:users:groups!user"],
    }


def api_service_url(settings: Settings) -> str:
    """Where the hub's proxy and staff servers reach the API: ``hub.api_url`` (nginx's upstream of replicas),
    else the one API the hub runs on loopback."""
    return settings.hub.api_url or f"http://127.0.0.1:{settings.hub.api_port}"


def api_token_path(settings: Settings) -> Path:
    """The external API service's hub token (``hub.api_url`` set): every replica's ``JUPYTERHUB_API_TOKEN``."""
    return settings.hub_dir / API_TOKEN_FILE


def api_service(settings: Settings, paths: HubPaths, env: dict[str, str]) -> dict:
    """The API service: managed (the hub runs it, under its supervisor) on one machine; external (a URL and a
    token, replicas run by the operator) when ``hub.api_url`` is set."""
    service: dict = {**api_service_options(), "url": api_service_url(settings)}
    if settings.hub.api_url:
        token = api_token_path(settings)
        if not token.is_file():
            raise FileNotFoundError(f"hub.api_url is set but {token} is missing; `diemcau hub` creates it")
        return {**service, "api_token": token.read_text("utf-8").strip()}
    # under its supervisor: back within seconds of a crash, not at the hub's next poll (apps/supervise.py)
    return {
        **service,
        "command": [paths.python, "-m", "diemcau.apps.supervise", "--module", "diemcau.apps.api"],
        "environment": env,
    }


def update_services(c: Config, settings: Settings, paths: HubPaths) -> None:
    """The API (managed or external), the idle culler, and the job worker unless worker hosts run it
    (``hub.run_worker``)."""
    env = service_environment(settings, paths)
    # The job consumer (ingest, transcription, grading); scale-out runs it on worker hosts instead.
    worker = {"name": WORKER_SERVICE_NAME, "command": [paths.python, "-m", "diemcau.apps.cli", "worker"]}
    c.JupyterHub.services = [
        api_service(settings, paths, env),
        {
            "name": CULLER_SERVICE_NAME,
            "command": [paths.python, "-m", "jupyterhub_idle_culler", f"--timeout={settings.hub.cull_idle_seconds}"],
            "environment": env,
        },
        *([{**worker, "environment": env}] if settings.hub.run_worker else []),
    ]


def update_pages(c: Config, paths: HubPaths) -> None:
    """Light Vietnamese pages (login, activation, starting, stopped, errors), and members land on the portal,
    not on JupyterLab. A staff member's dashboard link whose server is stopped starts it by itself after a
    second (``implicit_spawn_seconds``: the Vietnamese "stopped" page, then "starting", then the dashboard)."""
    c.JupyterHub.template_paths = [str(paths.templates)]
    c.JupyterHub.template_vars = {"msg": load_catalogue("vi")}
    c.JupyterHub.default_url = f"/services/{API_SERVICE_NAME}/"
    c.JupyterHub.implicit_spawn_seconds = 1


def update_stop(c: Config) -> None:
    """A hub that stops takes its proxy and every staff server with it (JupyterHub's defaults, stated here), so a
    Ctrl-C leaves nothing running; how each server is stopped: ``IsolatedSpawner.stop`` and docs/architecture.md."""
    c.JupyterHub.cleanup_servers = True
    c.JupyterHub.cleanup_proxy = True


def apply_config(settings: Settings, c: Config, paths: HubPaths) -> Config:
    """Set every hub option that follows from the settings; returns ``c`` for convenience."""
    update_network(c, settings)
    update_state(c, settings)
    update_proxy(c, paths)
    update_auth(c, settings)
    update_roles(c)
    update_spawner(c, settings, paths)
    update_services(c, settings, paths)
    update_pages(c, paths)
    update_stop(c)
    return c
