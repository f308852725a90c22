"""Group commit: concurrent small writes share one transaction, so one commit (one fsync) serves many.

A progress heartbeat writes a few rows and then waits for its commit; on SQLite the commit's fsync holds the
one write lock for milliseconds, so one transaction per request caps ingest at a few hundred requests per
second whatever the CPU. ``GroupWriter`` runs the writes of one database on one thread: it takes every
request queued meanwhile (at most ``max_batch``), runs them in order in one transaction, commits, and only
then answers each caller — durability is that of a transaction per request (an answer means committed; a
process killed before the commit answered nobody, and the clients send again).

Work comes in two shapes: ``submit(work)``, a function of the session run as it is, and
``submit_item(batch, item)``, where consecutive items for the same ``batch`` function are handed to it together
(``batch(session, items)`` returns one result per item): the progress ingest reads and writes a whole batch
of heartbeats in a fixed number of statements rather than a few per request.

Requests that arrive one at a time would each find the writer idle and commit alone — at a thousand heartbeats a
second, a thousand commits. So when writes arrive back to back (the previous batch was taken less than two
``gather_seconds`` ago), the writer waits up to ``gather_seconds`` after the first for more, as PostgreSQL's
``commit_delay`` does: a few milliseconds on each answer under load, against a commit per request; an isolated
write is never held.

If the shared transaction fails, each of its requests is run again in a transaction of its own, so one bad
request fails alone. A request that alone meets a unique-key conflict (a row another process inserted between
its read and its insert: another API process, or the player page's first-contact row) runs once more, and
then reads that row. The thread starts on the first write and stops after ``idle_seconds`` without any.
"""

from __future__ import annotations

import queue
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - an item of a batch
Work = Callable[[Session], Any]
Batch = Callable[[Session, list[Any]], list[Any]]
Queued = tuple[Batch, Any, Future]


def _each(session: Session, works: list[Work]) -> list[Any]:
    """The batch function of plain ``submit``: each unit of work in turn."""
    return [work(session) for work in works]


class GroupWriter:
    """One writer thread for a database; ``submit`` a unit of work, get a future resolved after its commit."""

    def __init__(self, factory: sessionmaker[Session], max_batch: int = 256, idle_seconds: float = 30.0,
                 gather_seconds: float = 0.0) -> None:  # fmt: skip
        self.factory, self.max_batch, self.idle_seconds = factory, max_batch, idle_seconds
        self.gather_seconds = gather_seconds
        self._last_taken = float("-inf")
        self._queue: queue.SimpleQueue[Queued] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.commits = 0  # transactions committed (shared or single), for benchmarks and tests

    def submit(self, work: Callable[[Session], T]) -> Future[T]:
        """Queue ``work(session)``; the future holds its result once committed, or its exception."""
        return self.submit_item(_each, work)

    def submit_item(self, batch: Callable[[Session, list[I]], list[T]], item: I) -> Future[T]:
        """Queue ``item`` for ``batch(session, [..., item, ...])``; the future holds its result once committed."""
        future: Future[T] = Future()
        self._queue.put((batch, item, future))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="diemcau-group-commit", daemon=True)
                self._thread.start()
        return future

    def _next_batch(self) -> list[Queued] | None:
        try:
            batch = [self._queue.get(timeout=self.idle_seconds)]
        except queue.Empty:
            with self._lock:  # stop only if nothing arrived meanwhile; ``submit`` then starts a new thread
                if self._queue.empty():
                    self._thread = None
                    return None
            return []
        now = time.monotonic()
        busy = now - self._last_taken < 2 * self.gather_seconds
        deadline = now + self.gather_seconds if busy else now
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                batch.append(self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        self._last_taken = now
        return batch

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            live = [queued for queued in batch if queued[2].set_running_or_notify_cancel()]
            if live:
                self._commit(live)

    def _commit(self, batch: list[Queued], retried: bool = False) -> None:
        try:
            with transaction(self.factory) as session:
                results = [result for run in _runs(batch) for result in _run(session, run)]
        except BaseException as error:  # noqa: BLE001 - handed to the callers, never lost
            if len(batch) == 1 and isinstance(error, IntegrityError) and not retried:
                self._commit(batch, retried=True)
            elif len(batch) == 1:
                batch[0][2].set_exception(error)
            else:
                for queued in batch:
                    self._commit([queued])
            return
        self.commits += 1
        for (_, _, future), result in zip(batch, results, strict=True):
            future.set_result(result)


def _run(session: Session, run: list[Queued]) -> list[Any]:
    """A run's results: its batch function called once with all its items."""
    return run[0][0](session, [item for _, item, _ in run])


def _runs(batch: list[Queued]) -> list[list[Queued]]:
    """The batch cut into runs of consecutive items for the same batch function (the order is kept)."""
    runs: list[list[Queued]] = []
    for queued in batch:
        if runs and runs[-1][0][0] is queued[0]:
            runs[-1].append(queued)
        else:
            runs.append([queued])
    return runs


_WRITERS: weakref.WeakKeyDictionary[sessionmaker[Session], GroupWriter] = weakref.WeakKeyDictionary()
_CREATE = threading.Lock()


def writer_for(factory: sessionmaker[Session], max_batch: int = 256, gather_seconds: float = 0.0) -> GroupWriter:
    """The group writer of this database in this process (created on first use, with these settings)."""
    with _CREATE:
        found = _WRITERS.get(factory)
        if found is None:
            found = _WRITERS[factory] = GroupWriter(factory, max_batch, gather_seconds=gather_seconds)
        return found
