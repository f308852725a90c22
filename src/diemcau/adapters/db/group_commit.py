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
second, a thousand commits. So the writer keeps an estimate of the rate writes arrive at, and when another write is
expected within ``max_gather_seconds`` it waits after the first of a batch for about ``GATHER_WRITES`` more: the
time they take to arrive, at least ``gather_seconds`` and at most ``max_gather_seconds``, as PostgreSQL's
``commit_delay`` does. At a thousand writes a second that is ``gather_seconds`` (a few milliseconds); at the tens
a second one API replica of many sees, tens of milliseconds, where a commit of one would otherwise cost nearly
three times the CPU per write of a commit of five (docs/benchmarks.md, "Scale-out"). A write that comes after a
quiet spell is never held; what waiting costs is latency, on answers nobody watches (the player's background
heartbeats).

If the shared transaction fails, each of its requests is run again in a transaction of its own, so one bad
request fails alone. A request that alone meets a unique-key conflict (a row another process inserted between
its read and its insert: another API process, or the player page's first-contact row) runs once more, and
then reads that row. The thread starts on the first write and stops after ``idle_seconds`` without any, or when
``close`` asks it to (once every write queued before has been answered; a later write starts it again).

Each API process holds one writer per database, owned by its ``ApiRuntime`` (``apps.api.plumbing.runtime``), which
closes it when the app shuts down.
"""

from __future__ import annotations

import math
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
# How many more writes a batch waits for, at most ``max_gather_seconds`` (the waiting is bounded by time, not count):
# batches of about five at any rate, each write bearing a fifth of a commit's fixed CPU (2 gave ~1.8 at 75 writes/s,
# and 20 % more CPU per heartbeat; docs/benchmarks.md, "Scale-out", session 26).
GATHER_WRITES = 4.0
# The arrival rate is averaged over about this many seconds (an exponential moving average decaying with time).
RATE_SECONDS = 1.0


def arrival_rate(rate: float, arrived: int, elapsed: float) -> float:
    """The estimated writes per second, given the previous estimate (0: none yet, so that interval's rate) and
    ``arrived`` writes over the ``elapsed`` seconds since: the interval's rate weighs ``1 - exp(-elapsed /
    RATE_SECONDS)``, so a pause of a second or more mostly replaces the old estimate and back-to-back batches barely
    move it."""
    if not elapsed > 0 or math.isinf(elapsed):  # the first batch, or two in the same clock tick
        return rate
    if rate == 0.0:  # no estimate yet: the first interval's rate
        return arrived / elapsed
    weight = 1.0 - math.exp(-elapsed / RATE_SECONDS)
    return weight * arrived / elapsed + (1.0 - weight) * rate


def gather_wait(rate: float, gather_seconds: float, max_gather_seconds: float) -> float:
    """How long a batch waits for more writes at ``rate`` writes/s: the time ``GATHER_WRITES`` more take to arrive,
    within [``gather_seconds``, ``max_gather_seconds``]; nothing when fewer than one more is expected within
    ``max_gather_seconds`` (a write after a quiet spell is never held)."""
    if rate * max_gather_seconds < 1.0:
        return 0.0
    return min(max_gather_seconds, max(gather_seconds, GATHER_WRITES / rate))


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
        max_gather_seconds: float | None = None,
    ) -> None:
        self.factory, self.max_batch, self.idle_seconds = factory, max_batch, idle_seconds
        self.gather_seconds = gather_seconds
        self.max_gather_seconds = max(gather_seconds, max_gather_seconds or 0.0)
        self._rate = 0.0  # writes per second, estimated at the start of each batch (``arrival_rate``)
        self._arrived = 0  # writes submitted so far (read by the writer thread only to take differences)
        self._last_taken, self._arrived_then = float("-inf"), 0
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
        self._arrived += 1  # under the GIL; an increment lost to a race only nudges the estimate
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
        deadline = now + self._wait_for(now)
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
        return batch  # type: ignore[return-value]

    def _wait_for(self, now: float) -> float:
        """How long the batch begun at ``now`` waits for more writes (``gather_wait`` at the updated rate)."""
        self._rate = arrival_rate(self._rate, self._arrived - self._arrived_then, now - self._last_taken)
        self._last_taken, self._arrived_then = now, self._arrived
        return gather_wait(self._rate, self.gather_seconds, self.max_gather_seconds)

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
