"""How long Ctrl-C takes to stop the whole platform, and what it leaves running.

Starts `diemcau hub --demo-logins` as `make demo` does (a terminal on its stdin, random ports, its own data
directory and system users: ``tests/test_clean_stop.running_platform``), puts the trainer to work (studio open
in a session, the lecture dashboard's kernel, a process their code started that ignores SIGTERM) and the
secretary (a kernel running the same), then sends SIGINT to the runner's process group as a terminal does.
Prints the seconds until the runner exits and until no process of the platform is left (given up after
``GIVE_UP`` s), what was still running then, and the log lines that report a failed stop.
Run as root: `.venv/bin/python bench/clean_stop.py [--plain] [-v]` (``--plain``: no SIGTERM-ignoring processes,
``-v``: print the hub's log of the stop). Baseline: the same with the code before on PYTHONPATH.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_clean_stop import (  # noqa: E402
    SECRETARY,
    STUBBORN,
    StaffSession,
    running_platform,
    trainer_at_work,
)

GIVE_UP = 60.0
BAD = ("Failed to stop", "Task was destroyed", "Traceback", "did not stop within")


def main() -> None:
    with running_platform() as platform:
        plain = "--plain" in sys.argv
        studio = trainer_at_work(platform, code="" if plain else STUBBORN)
        secretary = StaffSession(platform, SECRETARY)
        secretary.start_server()
        secretary.run(secretary.kernel(), "print('started')" if plain else STUBBORN)
        print(f"load average before: {os.getloadavg()[0]:.1f}; platform processes: {len(platform.processes())}")
        started = time.monotonic()
        os.killpg(platform.process.pid, signal.SIGINT)
        runner_exit = all_gone = None
        while time.monotonic() - started < GIVE_UP:
            if runner_exit is None and platform.process.poll() is not None:
                runner_exit = time.monotonic() - started
            if runner_exit is not None and not platform.processes():
                all_gone = time.monotonic() - started
                break
            time.sleep(0.05)
        studio.close()
        left = platform.processes()
        log = platform.log()
        print(
            f"runner exited after: {runner_exit if runner_exit is None else round(runner_exit, 2)} s "
            f"(status {platform.process.returncode})"
        )
        print(f"no process left after: {all_gone if all_gone is None else round(all_gone, 2)} s")
        print(f"left after {GIVE_UP:.0f} s: {len(left)}", *left.values(), sep="\n  ")
        if "-v" in sys.argv:
            print(log[log.index("Received signal") - 60 :])
        for bad in BAD:
            print(f"log lines with {bad!r}: {sum(bad in line for line in log.splitlines())}")


if __name__ == "__main__":
    main()
