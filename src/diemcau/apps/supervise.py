"""``python -m diemcau.apps.supervise -- COMMAND...``: run a service's process and start it again the moment it dies.

JupyterHub notices a managed service's death only when it next polls it (every 30 s, jittered): after a
``kill -9`` the API was away 10–31 s. The hub runs this supervisor instead (``apps/hub/config.py``); it waits on
its child, so it sees the death at once and starts the child again after ``FIRST_DELAY`` (the API is back once
it has imported and bound its port, ~1–3 s). Why here rather than a shorter hub poll: the hub's check would
still wait out an interval and is its own business (it polls every spawner too); a parent that waits on the
child needs no polling at all, and holds for any process manager (systemd, a container) around it.

* SIGINT and SIGTERM (how the hub stops a service) are passed on to the child, and the supervisor then exits
  with the child's status, starting nothing more.
* The child dies with the supervisor (``PR_SET_PDEATHSIG``): a supervisor killed with ``kill -9`` leaves no
  orphan holding the port, and the hub's own restart (at its next poll) starts both again.
* A child that keeps dying within ``STEADY_SECONDS`` of its start is started again after a doubling delay (up to
  ``MAX_DELAY``); after ``MAX_QUICK_DEATHS`` such deaths in a row (a configuration error, say) the supervisor
  gives up and exits with the child's status, so the hub's log and its own restart policy take over.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

log = logging.getLogger("diemcau.supervise")
FIRST_DELAY = 0.2
MAX_DELAY = 5.0
STEADY_SECONDS = 10.0
MAX_QUICK_DEATHS = 5
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec (the supervisor has no threads)
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:  # not Linux: the child outlives a killed supervisor, as it did without one
        pass


@dataclass
class Supervisor:
    """Keeps one child process running until asked to stop."""

    command: Sequence[str]
    child: subprocess.Popen | None = None
    stopping: bool = False
    starts: int = field(default=0)

    def forward(self, signum: int, _frame: object) -> None:
        """A stop signal: pass it on to the child and start nothing more."""
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def run(self) -> int:
        """Start the child, again each time it dies; the child's last status once stopped or given up."""
        delay, quick_deaths = FIRST_DELAY, 0
        while True:
            started = time.monotonic()
            self.child = subprocess.Popen(self.command, preexec_fn=_die_with_parent)
            self.starts += 1
            status = self.child.wait()
            if self.stopping:
                return status
            lived = time.monotonic() - started
            quick_deaths = quick_deaths + 1 if lived < STEADY_SECONDS else 0
            if quick_deaths >= MAX_QUICK_DEATHS:
                log.error("%s died %d times within %.0f s of starting; giving up", self.command[0], quick_deaths,
                          STEADY_SECONDS)  # fmt: skip
                return status or 1
            delay = min(MAX_DELAY, delay * 2) if quick_deaths > 1 else FIRST_DELAY
            log.warning("service process %d died (status %s) after %.1f s; starting it again in %.1f s",
                        self.child.pid, status, lived, delay)  # fmt: skip
            time.sleep(delay)
            if self.stopping:
                return status


def main(argv: Sequence[str]) -> int:
    """Supervise the command after ``--``."""
    command = list(argv[1:] if argv and argv[0] == "--" else argv)
    if not command:
        print("usage: python -m diemcau.apps.supervise -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(asctime)s %(name)s] %(message)s")
    supervisor = Supervisor(command)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, supervisor.forward)
    return supervisor.run()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
