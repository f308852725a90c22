"""Group commit: concurrent small writes share one transaction, so one commit (one fsync) serves many.

A progress heartbeat writes a few rows and then waits for its commit; on SQLite the commit's fsync holds the
one write lock for milliseconds, so one transaction per request caps ingest at a few hundred requests per
second whatever the CPU. ``GroupWriter`` runs the writes of one database on one thread: it takes every
request queued meanwhile (at most ``max_batch``), runs them in order in one transaction, commits, and only
then answers each caller — durability is that of a transaction per request (an answer means committed; a
process killed before the commit answered nobody, and the clients send again).

If the shared transaction fails, each of its requests is run again in a transaction of its own, so one bad
request fails alone. The thread starts on the first write and stops after ``idle_seconds`` without any.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction

T = TypeVar("T")
Work = Callable[[Session], Any]


class GroupWriter:
    """One writer thread for a database; ``submit`` a unit of work, get a future resolved after its commit."""

    def __init__(self, factory: sessionmaker[Session], max_batch: int = 256, idle_seconds: float = 30.0) -> None:
        self.factory, self.max_batch, self.idle_seconds = factory, max_batch, idle_seconds
        self._queue: queue.SimpleQueue[tuple[Work, Future]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.commits = 0  # transactions committed (shared or single), for benchmarks and tests

    def submit(self, work: Callable[[Session], T]) -> Future[T]:
        """Queue ``work(session)``; the future holds its result once committed, or its exception."""
        future: Future[T] = Future()
        self._queue.put((work, future))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="diemcau-group-commit", daemon=True)
                self._thread.start()
        return future

    def _next_batch(self) -> list[tuple[Work, Future]] | None:
        try:
            batch = [self._queue.get(timeout=self.idle_seconds)]
        except queue.Empty:
            with self._lock:  # stop only if nothing arrived meanwhile; ``submit`` then starts a new thread
                if self._queue.empty():
                    self._thread = None
                    return None
            return []
        while len(batch) < self.max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            live = [(work, future) for work, future in batch if future.set_running_or_notify_cancel()]
            if live:
                self._commit(live)

    def _commit(self, batch: list[tuple[Work, Future]]) -> None:
        try:
            with transaction(self.factory) as session:
                results = [work(session) for work, _ in batch]
        except BaseException as error:  # noqa: BLE001 - handed to the callers, never lost
            if len(batch) == 1:
                batch[0][1].set_exception(error)
            else:
                for item in batch:
                    self._commit([item])
            return
        self.commits += 1
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)


_WRITERS: weakref.WeakKeyDictionary[sessionmaker[Session], GroupWriter] = weakref.WeakKeyDictionary()
_CREATE = threading.Lock()


def writer_for(factory: sessionmaker[Session], max_batch: int = 256) -> GroupWriter:
    """The group writer of this database in this process (created on first use)."""
    with _CREATE:
        found = _WRITERS.get(factory)
        if found is None:
            found = _WRITERS[factory] = GroupWriter(factory, max_batch)
        return found
