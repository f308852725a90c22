"""Cache misses of concurrent requests, loaded together: one thread-pool call and one query per event-loop turn.

A crowd of members that started a lecture together (a commune hall, the opening of a conference) misses the
caller cache together, once a minute: a thousand separate loads — each a hop to the thread pool, a session and a
query — took a core for a second and held every heartbeat behind them (docs/benchmarks.md). ``CoalescedLoader``
collects the keys asked for during ``gather_seconds`` from the first (or, with 0, while the event loop runs its
ready callbacks), then loads them all with one call of ``load_many`` in the thread pool; each waiting request gets
its own value or its own exception. A key asked for twice in the same round is loaded once. A round of one costs
~0.6 ms of CPU, of five ~0.15 ms each (``bench/progress_ingest.py`` at 1,000 posts/s: requests arrive one by one,
so without the few milliseconds' wait every round is a round of one).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Hashable, Mapping
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Round(Generic[K, V]):
    """The keys asked for in one turn of one event loop, each with the future its requests wait on."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: dict[K, asyncio.Future[V]] = {}


class CoalescedLoader(Generic[K, V]):
    """``await load(key)``: the value ``load_many`` gives for ``key``, loaded together with the other keys asked
    for in the same round (``gather_seconds``, or the same event-loop turn).

    ``load_many(keys)`` runs in the thread pool and maps each key to its value or to the exception that key's
    requests should raise (a refusal); a key it leaves out raises ``KeyError``. If ``load_many`` itself raises
    (the database is down), every request of the round raises that error."""

    def __init__(
        self, load_many: Callable[[list[K]], Mapping[K, V | BaseException]], gather_seconds: float = 0.0
    ) -> None:
        self._load_many, self.gather_seconds = load_many, gather_seconds
        self._open: _Round[K, V] | None = None
        self._lock = threading.Lock()  # apps in tests may run event loops in several threads
        self._running: set[asyncio.Task] = set()  # the loop keeps tasks only weakly: hold each round until done
        self.rounds = 0  # calls of ``load_many``, for tests and benchmarks

    async def load(self, key: K) -> V:
        loop = asyncio.get_running_loop()
        with self._lock:
            current = self._open
            if current is None or current.loop is not loop:
                current = self._open = _Round(loop)
                if self.gather_seconds > 0:
                    loop.call_later(self.gather_seconds, self._start, current)
                else:  # after the callbacks already ready: requests parsed together
                    loop.call_soon(self._start, current)
            future = current.waiting.get(key)
            if future is None:
                future = current.waiting[key] = loop.create_future()
                future.add_done_callback(_retrieve)
        # shielded: a request cancelled (client gone) must not cancel the load other requests wait on
        return await asyncio.shield(future)

    def _start(self, closing: _Round[K, V]) -> None:
        with self._lock:
            if self._open is closing:
                self._open = None
        task = closing.loop.create_task(self._finish(closing))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _finish(self, closing: _Round[K, V]) -> None:
        keys = list(closing.waiting)
        self.rounds += 1
        try:
            found = await run_in_threadpool(self._load_many, keys)
        except Exception as error:  # noqa: BLE001 - every waiting request raises it
            outcomes: dict[K, V | BaseException] = dict.fromkeys(keys, error)
        else:
            outcomes = {key: found[key] if key in found else KeyError(key) for key in keys}
        for key, future in closing.waiting.items():
            _settle(future, outcomes[key])


def _retrieve(future: asyncio.Future) -> None:
    """Mark an outcome as seen: if every request that wanted it was cancelled, asyncio would log it as lost."""
    if not future.cancelled():
        future.exception()


def _settle(future: asyncio.Future, outcome: object) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
