"""The worker context: what one process needs to run jobs (settings, one database engine, the quiz graders, the
worker heartbeat), owned by one object, and the one process-level slot that holds it.

Why a slot at all: huey tasks and start-up hooks are module-level functions that huey calls with only their
queued arguments, so they cannot be handed a context; they ask ``current()``. Everything else takes the
context (or its settings and factory) as arguments. This module is the only place in ``jobs`` that keeps
per-process state:

* a worker (``diemcau worker``) builds its context from the environment on first use (``current()``);
* the CLI (``--wait`` without a worker, ``drain_queue``), the demo seeder and tests hand theirs in with
  ``install(settings)`` before running tasks here. Installing equal settings again keeps the context (and its
  engine); other settings replace it, and the replaced one is closed (engine disposed, heartbeat stopped).

One process therefore holds one engine per database URL for its jobs, whatever module the task lives in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import make_engine, make_sessionmaker
from diemcau.adapters.storage import Stores, stores_of
from diemcau.settings import Settings, load_settings

if TYPE_CHECKING:
    from diemcau.quizzes.grading import Graders

log = logging.getLogger(__name__)


@dataclass(eq=False)
class WorkerContext:
    """The settings, session factory, file stores and quiz graders of the jobs run in this process."""

    settings: Settings
    factory: sessionmaker[Session]
    stores: Stores = field(init=False)
    """Media, transcripts and materials (``adapters/storage.py``), on the volumes the settings name."""
    stopping: threading.Event = field(default_factory=threading.Event)
    """Set when the context is replaced or the worker stops: its background threads (heartbeat) end."""
    _started: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _graders: Graders | None = None

    def __post_init__(self) -> None:
        self.stores = stores_of(self.settings)

    @classmethod
    def of(cls, settings: Settings) -> WorkerContext:
        """A context for ``settings``: one engine on its database."""
        return cls(settings, make_sessionmaker(make_engine(settings.database_url)))

    @property
    def graders(self) -> Graders:
        """The quiz graders of this process (made on first use: nbgrader is slow to import, and only quiz grading
        needs it)."""
        from diemcau.quizzes.grading import Graders

        with self._lock:
            if self._graders is None:
                self._graders = Graders(self.settings)
            return self._graders

    def first_time(self, name: str) -> bool:
        """True the first time ``name`` is asked in this context (huey runs each start-up hook once per worker
        thread; a hook that should run once per process asks this)."""
        with self._lock:
            if name in self._started:
                return False
            self._started.add(name)
            return True

    def repeat(self, name: str, every: float, sweep: Callable[[WorkerContext], object]) -> None:
        """Run ``sweep(self)`` every ``every`` seconds on a thread of its own, until the worker stops
        (the recovery sweeps: their period is ``jobs.recovery_seconds``, so a test can make it seconds). A
        failing sweep is logged and tried again next time."""
        stop = self.stopping

        def loop() -> None:
            while not stop.wait(every):
                try:
                    sweep(self)
                except Exception:  # noqa: BLE001 - a sweep must never end the worker's sweeps
                    log.exception("%s failed", name)

        threading.Thread(target=loop, name=name, daemon=True).start()

    def stop_worker(self) -> bool:
        """The worker stops: its threads end, and a consumer started later in this process starts afresh.
        True for the first of the worker's threads to ask (huey runs shutdown hooks once per thread)."""
        with self._lock:
            if not self._started:
                return False
            self.stopping.set()
            self.stopping = threading.Event()
            self._started.clear()
            return True

    def close(self) -> None:
        """Stop the context's threads and release its engine and graders."""
        self.stopping.set()
        if self._graders is not None:
            self._graders.close()
        self.factory.kw["bind"].dispose()


_slot: list[WorkerContext] = []
_slot_lock = threading.Lock()


def install(settings: Settings) -> WorkerContext:
    """Make the jobs run in this process use ``settings`` (the CLI and tests; a worker reads the environment).

    Returns the context now current: the same one when it already has equal settings."""
    with _slot_lock:
        if _slot and _slot[0].settings == settings:
            return _slot[0]
        fresh = WorkerContext.of(settings)
        replaced, _slot[:] = list(_slot), [fresh]
    for old in replaced:
        old.close()
    return fresh


def current() -> WorkerContext:
    """The context of the jobs run in this process, built from the environment on first use."""
    with _slot_lock:
        if not _slot:
            _slot.append(WorkerContext.of(load_settings()))
        return _slot[0]
