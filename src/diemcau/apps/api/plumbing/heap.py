"""The API process's heap after start-up, kept out of the garbage collector's full passes.

Importing FastAPI, SQLAlchemy, pydantic and the app leaves ~440,000 long-lived tracked objects. CPython's full
(generation 2) collection walks all of them: 230–270 ms each on this machine, during which the event loop answers
nobody — the whole-run p99 of the progress ingest bench was those pauses (docs/benchmarks.md). ``gc.freeze``
moves everything alive at the end of start-up into a permanent generation that collections skip; what the
running service allocates is still collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collect the start-up garbage once, then freeze what remains (call once the app is built)."""
    gc.collect()
    gc.freeze()
