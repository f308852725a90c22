"""Finding the API service's processes under a running hub (by the process tree, never by a name across the
machine: other hubs may be running), for the crash test and ``bench/api_restart.py``."""

from __future__ import annotations

from pathlib import Path

API_MODULE = "diemcau.apps.api"
SUPERVISOR_MODULE = "diemcau.apps.supervise"


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (Linux ``/proc``)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``."""
    below = []
    for child in children(pid):
        below += [child, *descendants(child)]
    return below


def command_of(pid: int) -> list[str]:
    """A process's argument list (empty once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except (FileNotFoundError, ProcessLookupError):
        return []


def api_processes(hub_pid: int) -> tuple[int | None, int | None]:
    """``(supervisor, api)`` pids below the hub ``hub_pid``: the supervisor runs ``diemcau.apps.supervise`` for the
    API module, and the API is its child (a fork: it keeps the supervisor's command line)."""
    for pid in descendants(hub_pid):
        command = command_of(pid)
        if SUPERVISOR_MODULE in command and API_MODULE in command:
            kids = children(pid)
            return pid, (kids[0] if kids else None)
    return None, None
