"""The service supervisor on its own: a child killed with SIGKILL is started again at once, a stop signal is passed
on and ends both, and the child dies with a supervisor killed with SIGKILL (no orphan left holding a port)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.api_processes import children

WAIT = 60.0  # generous: only how long to wait for something that should happen within a second
CHILD = """
import os, pathlib, sys, time
if __name__ == "__main__":
    pathlib.Path(os.environ["PIDS"]).joinpath(str(os.getpid())).write_text("up")
    time.sleep(600)
"""


def wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"


@pytest.fixture(params=["command", "module"])
def supervised(tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A supervisor of ``CHILD`` — as a command (a new interpreter each start) or as a module (imported once,
    forked each start, as the hub runs the API) — whose children write their pid into ``tmp_path/pids``."""
    pids = tmp_path / "pids"
    pids.mkdir()
    (tmp_path / "svchild.py").write_text(CHILD)
    how = (
        ["--", sys.executable, str(tmp_path / "svchild.py")] if request.param == "command" else ["--module", "svchild"]
    )
    env = {**os.environ, "PIDS": str(pids), "PYTHONPATH": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "diemcau.apps.supervise", *how], env=env)
    wait_for(lambda: len(list(pids.iterdir())) == 1, "the first child never started")
    yield process, pids
    if process.poll() is None:
        process.kill()
        process.wait()


def test_a_killed_child_is_started_again(supervised) -> None:  # type: ignore[no-untyped-def]
    """After SIGKILL of the child, does the same supervisor start a new one?"""
    process, pids = supervised
    first = int(next(pids.iterdir()).name)
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: len(list(pids.iterdir())) == 2, "the child was not started again")
    assert process.poll() is None and children(process.pid) != [first]


def test_a_stop_signal_ends_child_and_supervisor(supervised) -> None:  # type: ignore[no-untyped-def]
    """Does SIGTERM (how the hub stops a service) reach the child, and the supervisor then exit without starting
    another?"""
    process, pids = supervised
    child = int(next(pids.iterdir()).name)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=WAIT) == 128 + signal.SIGTERM  # the child's end, as a shell reports it
    assert not alive(child) and len(list(pids.iterdir())) == 1


def test_the_child_dies_with_a_killed_supervisor(supervised) -> None:  # type: ignore[no-untyped-def]
    """After SIGKILL of the supervisor itself, does its child go too (nothing left on the service's port)?"""
    process, pids = supervised
    child = int(next(pids.iterdir()).name)
    process.kill()
    process.wait()
    wait_for(lambda: not alive(child), "the child outlived its supervisor")
