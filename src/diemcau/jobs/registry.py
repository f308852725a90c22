"""The modules that define tasks; importing them registers their tasks on the queue.

A worker must import every task module before it consumes, or it cannot run what it dequeues.
"""

from __future__ import annotations

import importlib

TASK_MODULES: tuple[str, ...] = (
    "diemcau.jobs.ingest",
    "diemcau.jobs.transcribe_task",
    "diemcau.jobs.quiz_tasks",
    "diemcau.search.tasks",
    "diemcau.jobs.material_task",
)


def load_tasks() -> None:
    """Import every task module (idempotent)."""
    for name in TASK_MODULES:
        importlib.import_module(name)
