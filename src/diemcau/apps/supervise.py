"""``python -m diemcau.apps.supervise --module MODULE`` (or ``-- COMMAND...``): run a service's process and start it
again the moment it dies.

JupyterHub notices a managed service's death only when it next polls it (every 30 s, jittered): after a
``kill -9`` the API was away 10–31 s. The hub runs this supervisor instead (``apps/hub/config.py``); it waits on
its child, so it sees the death at once and starts the child again after ``FIRST_DELAY``. Why here rather than
a shorter hub poll: the hub's check would still wait out an interval and is its own business (it polls every
spawner too); a parent that waits on the child needs no polling at all, and holds for any process manager
(systemd, a container) around it.

With ``--module`` the supervisor imports the module once (for the API: FastAPI, SQLAlchemy, pydantic, every
route — ~1.5 s of CPU, more on a busy machine) and each start is a ``fork`` that runs it as ``__main__``: a
restart costs the service's own start-up (migrations check, app, bind), not the imports again. The supervisor
starts no thread, so forking it is safe. ``-- COMMAND`` runs any command instead (a fresh interpreter each time).

* SIGINT and SIGTERM (how the hub stops a service) are passed on to the child, and the supervisor then exits
  with the child's status, starting nothing more, at once (``os._exit``: tearing down the imported service took
  ~3 s on a busy machine, while the hub waited to stop the next service).
* The child dies with the supervisor (``PR_SET_PDEATHSIG``): a supervisor killed with ``kill -9`` leaves no
  orphan holding the port, and the hub's own restart (at its next poll) starts both again.
* A child that keeps dying within ``STEADY_SECONDS`` of its start is started again after a doubling delay (up to
  ``MAX_DELAY``); after ``MAX_QUICK_DEATHS`` such deaths in a row (a configuration error, say) the supervisor
  gives up and exits with the child's status, so the hub's log and its own restart policy take over.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import os
import runpy
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from diemcau.apps.logs import log_to_stderr

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


def command_starter(command: Sequence[str]) -> Callable[[], int]:
    """Starts ``command`` as a new process; returns its pid."""
    return lambda: subprocess.Popen(list(command), preexec_fn=_die_with_parent).pid


def module_starter(module: str) -> Callable[[], int]:
    """Imports ``module`` (its ``__main__`` for a package) here, once; each start forks and runs it as ``__main__``."""
    try:
        importlib.import_module(f"{module}.__main__")
    except ModuleNotFoundError:
        importlib.import_module(module)

    def start() -> int:
        pid = os.fork()
        if pid:
            return pid
        code = 1
        try:  # the child: never returns into the supervisor's loop
            _die_with_parent()
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            sys.argv = [module]
            runpy.run_module(module, run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        except BaseException:  # noqa: BLE001 - reported, then the child exits and is started again
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    return start


@dataclass
class Supervisor:
    """Keeps one child process running until asked to stop; ``start`` starts it and returns its pid."""

    start: Callable[[], int]
    name: str
    pid: int | None = None
    stopping: bool = False

    def forward(self, signum: int, _frame: object) -> None:
        """A stop signal: pass it on to the child and start nothing more."""
        self.stopping = True
        if self.pid is not None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def run(self) -> int:
        """Start the child, again each time it dies; the child's last status once stopped or given up."""
        delay, quick_deaths = FIRST_DELAY, 0
        while True:
            started = time.monotonic()
            self.pid = self.start()
            _, raw = os.waitpid(self.pid, 0)
            status = os.waitstatus_to_exitcode(raw)
            status = status if status >= 0 else 128 - status  # killed by signal N: 128 + N, as a shell reports it
            if self.stopping:
                return status
            lived = time.monotonic() - started
            quick_deaths = quick_deaths + 1 if lived < STEADY_SECONDS else 0
            if quick_deaths >= MAX_QUICK_DEATHS:
                log.error(
                    "%s died %d times within %.0f s of starting; giving up", self.name, quick_deaths, STEADY_SECONDS
                )
                return status or 1
            delay = min(MAX_DELAY, delay * 2) if quick_deaths > 1 else FIRST_DELAY
            log.warning(
                "%s (process %d) died (status %s) after %.1f s; starting it again in %.1f s",
                self.name,
                self.pid,
                status,
                lived,
                delay,
            )
            time.sleep(delay)
            if self.stopping:
                return status


def main(argv: Sequence[str]) -> int:
    """Supervise ``--module MODULE``, or the command after ``--``."""
    log_to_stderr()
    if len(argv) == 2 and argv[0] == "--module":
        supervisor = Supervisor(module_starter(argv[1]), argv[1])
    elif len(argv) > 1 and argv[0] == "--":
        supervisor = Supervisor(command_starter(argv[1:]), argv[1])
    else:
        print("usage: python -m diemcau.apps.supervise (--module MODULE | -- COMMAND [ARG...])", file=sys.stderr)
        return 2
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, supervisor.forward)
    status = supervisor.run()
    # Done: exit without tearing down the service's imported modules (seconds on a busy machine, while the hub
    # waits to stop the next service); nothing of the supervisor needs saving.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
