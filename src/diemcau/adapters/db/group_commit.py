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
then reads that row. The thread starts on the first write and stops after ``idle_seconds`` without any, or when
``close`` asks it to (once every write queued before has been answered; a later write starts it again).

Each API process holds one writer per database, owned by its ``ApiRuntime`` (``apps.api.plumbing.runtime``), which
closes it when the app shuts down.
"""

from __future__ import annotations

import queue
import threading
import time
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
_STOP = object()  # ``close``'s request, queued behind the writes it must answer first


def _each(session: Session, works: list[Work]) -> list[Any]:
    """The batch function of plain ``submit``: each unit of work in turn."""
    return [work(session) for work in works]


class GroupWriter:
    """One writer thread for a database; ``submit`` a unit of work, get a future resolved after its commit."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        max_batch: int = 256,
        idle_seconds: float = 30.0,
        gather_seconds: float = 0.0,
    ) -> None:
        self.factory, self.max_batch, self.idle_seconds = factory, max_batch, idle_seconds
        self.gather_seconds = gather_seconds
        self._last_taken = float("-inf")
        self._queue: queue.SimpleQueue[Queued | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False  # a ``_STOP`` is queued (at most one at a time)
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

    def close(self, timeout: float | None = None) -> None:
        """Answer every write queued so far, then stop the writer thread (a later write starts a new one).

        Waits up to ``timeout`` seconds (``None``: as long as it takes) for the thread to finish."""
        with self._lock:
            thread = self._thread
            if thread is None:
                return
            if not self._stopping:
                self._stopping = True
                self._queue.put(_STOP)
        thread.join(timeout)

    def _next_batch(self) -> list[Queued] | None:
        try:
            first = self._queue.get(timeout=self.idle_seconds)
        except queue.Empty:
            first = None
        if first is None or first is _STOP:  # idle, or asked to stop
            with self._lock:  # stop only if nothing arrived meanwhile; ``submit`` then starts a new thread
                if self._queue.empty():
                    self._thread, self._stopping = None, False
                    return None
            if first is _STOP:  # writes came in behind the request to stop: answer them first
                self._queue.put(_STOP)
            return []
        batch = [first]
        now = time.monotonic()
        busy = now - self._last_taken < 2 * self.gather_seconds
        deadline = now + self.gather_seconds if busy else now
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                queued = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if queued is _STOP:  # stop after this batch and whatever is queued behind it
                self._queue.put(_STOP)
                break
            batch.append(queued)
        self._last_taken = now
        return batch  # type: ignore[return-value]

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
