"""Extraction in a child process under a memory and a time bound, so no document can hold the process that asks.

``extract_bounded`` runs ``python -m diemcau.materials.bounded`` on the file. The child first bounds itself —
``RLIMIT_AS`` (address space: an allocation past it is a ``MemoryError``) and ``RLIMIT_CPU`` (the kernel stops it
with ``SIGXCPU``, then ``SIGKILL``) — then runs ``materials.extract`` and writes the page texts as JSON on
stdout. The parent also kills it past a wall-clock bound (a child that sleeps or waits on I/O uses no CPU).
A child cut off by either bound is ``MaterialError("too_big")``; a refusal the child reached itself (encrypted,
corrupt) comes back as that ``MaterialError``; a child that dies otherwise is the kind's ``corrupt_*`` refusal.
"""

from __future__ import annotations

import json
import logging
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from diemcau.core.material import MaterialKind, MaterialText
from diemcau.materials.errors import MaterialError
from diemcau.settings import Settings

log = logging.getLogger(__name__)
BOUND_EXCEEDED = 3  # the child's exit status after a MemoryError
WALL_FACTOR = 2.0  # the wall-clock bound, as a multiple of the CPU bound (plus the interpreter's start)
START_SECONDS = 5.0


@dataclass(frozen=True)
class Bounds:
    """How much one extraction may use: address space (bytes) and CPU time (seconds)."""

    memory_bytes: int
    cpu_seconds: int


def bounds_of(settings: Settings) -> Bounds:
    """The bounds the settings give (``materials.extract_memory_mb``, ``materials.extract_seconds``)."""
    return Bounds(settings.materials.extract_memory_mb * 2**20, settings.materials.extract_seconds)


def extract_bounded(path: Path, kind: MaterialKind, max_unpacked_bytes: int, bounds: Bounds) -> MaterialText:
    """The page texts of the file at ``path`` (already sniffed as ``kind``), read in a bounded child process."""
    command = [
        sys.executable,
        "-m",
        __name__,
        str(path),
        str(max_unpacked_bytes),
        str(bounds.memory_bytes),
        str(bounds.cpu_seconds),
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=bounds.cpu_seconds * WALL_FACTOR + START_SECONDS)
    except subprocess.TimeoutExpired:  # run() kills the child before raising
        log.warning("materials: extraction of %s passed its wall-clock bound", path.name)
        raise MaterialError("too_big") from None
    if done.returncode == 0:
        answer = json.loads(done.stdout)
        if "error" in answer:
            raise MaterialError(answer["error"])
        return MaterialText(MaterialKind(answer["kind"]), tuple(answer["pages"]))
    if done.returncode == BOUND_EXCEEDED or done.returncode < 0:  # MemoryError, or killed (SIGXCPU, SIGKILL)
        log.warning("materials: extraction of %s cut off by its bounds (exit %d)", path.name, done.returncode)
        raise MaterialError("too_big")
    log.error("materials: extraction of %s failed: %s", path.name, done.stderr.decode(errors="replace")[-2000:])
    raise MaterialError(f"corrupt_{kind.value}")


def _bound_self(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def main(argv: list[str]) -> int:
    """The child: bound itself, extract, print ``{"kind", "pages"}`` or ``{"error"}`` as JSON."""
    path, max_unpacked, memory, cpu = Path(argv[0]), int(argv[1]), int(argv[2]), int(argv[3])
    _bound_self(memory, cpu)
    try:
        from diemcau.materials.extract import extract  # after the bounds: the readers' imports count against them

        text = extract(path, max_unpacked)
        answer: dict = {"kind": text.kind.value, "pages": list(text.pages)}
    except MaterialError as error:
        answer = {"error": error.code}
    except MemoryError:
        return BOUND_EXCEEDED
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
