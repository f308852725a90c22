"""Reading Linux's ``/proc``: one walk over the live processes, for the stop paths that look for what is left."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

PROC = Path("/proc")


def each_process(name: str) -> Iterator[tuple[int, str]]:
    """Each process's pid and the text of its ``/proc/<pid>/<name>`` (``stat``, ``status``…); a process gone
    meanwhile is skipped."""
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            yield int(entry.name), (entry / name).read_text()
        except OSError:  # gone meanwhile
            continue
