"""Short-lived, bounded, per-process caches for the API's hottest reads (``settings.perf``).

Every progress heartbeat used to resolve its caller (member, unit, grants) and its lecture's visibility
(course audience, status, duration) from the database: ~7 ms of a ~17 ms request. Both change rarely, so
each process keeps them for a few seconds:

* **caller** by hub username, ``caller_seconds`` (default 60 s): a revoked grant, a member deactivated or
  moved to another cell takes effect within that many seconds in each API process. Why 60: it must outlast the
  player's 15 s heartbeat or every heartbeat misses, and the hub keeps its own token checks 60 s
  (``token_cache.TOKEN_CACHE_SECONDS``), so a token revoked at the hub already lives that long;
* **lecture** facts (course audience, status, duration) and the courses' audiences, ``lecture_seconds``
  (default 60 s): one cache per app, owned by ``apps.api.plumbing.visibility.Visibility`` (every route asks it).

Each entry lives a random 80–100 % of its seconds (``JITTER``): members who started a lecture together would
otherwise all miss in the same instant every minute; spread, their misses cost no more but queue behind nothing.
Refusals are never cached (an unknown or inactive member, a lecture not found), so a member added to the
roster gets in at once. ``0`` seconds turns a cache off (the benchmark's baseline).

A third cache holds each ready lecture's media **manifest**, read from the media store by content hash, for
``perf.lecture_seconds`` (``MANIFESTS`` entries at most): a package changes only when a rendition is added to it
(``media.add_opus``), and players then find the rendition within that.

The caches belong to the app: ``create_app`` builds one ``ApiCaches`` and one ``Visibility`` in its
``ApiRuntime`` (``apps.api.plumbing.runtime``), so two apps in one process never share entries, and ``ApiRuntime.clear``
empties all of them at once.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from diemcau.settings import PerfSettings

V = TypeVar("V")
JITTER = 0.2  # the API's caches: an entry lives between 80 % and 100 % of its seconds
MANIFESTS = 256  # media manifests kept (a few hundred bytes each)
ALIGNMENTS = 32  # transcripts aligned to their lecture's documents (and those documents' texts), for the studio
ALIGNMENT_SECONDS = 3600.0  # keyed by their inputs, so never stale: the lifetime only returns the memory


class TtlCache(Generic[V]):
    """At most ``max_entries`` values, each kept ``seconds`` (less a random share of up to ``jitter`` of it);
    the least recently stored goes first when full.

    Thread-safe: the API resolves callers in its thread pool. ``clock`` and ``rand`` are injectable for tests.
    """

    def __init__(
        self,
        seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
        jitter: float = 0.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.seconds, self.max_entries, self._clock = seconds, max_entries, clock
        self.jitter, self._rand = jitter, rand
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.seconds > 0 and self.max_entries > 0

    def get(self, key: Hashable) -> V | None:
        """The value stored under ``key`` if still fresh, else ``None``."""
        if not self.enabled:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] <= self._clock():
                del self._entries[key]
                return None
            return found[1]

    def put(self, key: Hashable, value: V) -> V:
        """Store ``value`` for ``seconds``; returns it."""
        if self.enabled:
            with self._lock:
                self._entries.pop(key, None)
                lifetime = self.seconds * (1.0 - self.jitter * self._rand()) if self.jitter else self.seconds
                self._entries[key] = (self._clock() + lifetime, value)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value

    def get_or_load(self, key: Hashable, load: Callable[[], V]) -> V:
        """The fresh value for ``key``, loading (and storing) it when missing; exceptions are not cached."""
        found = self.get(key)
        return found if found is not None else self.put(key, load())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class ApiCaches:
    """The API's caches in this process besides visibility's: callers (``perf.caller_seconds``), media
    manifests (``perf.lecture_seconds``: a package changes only when a rendition is added to it,
    ``media.add_opus``, and players then find it within that), and, for the studio's suggestions, the lectures'
    materials' texts (each read from its file in a bounded subprocess) and the transcripts aligned to them (seconds
    of CPU for a long document): computed once per materials and transcript, by keys that name them."""

    callers: TtlCache
    manifests: TtlCache
    alignments: TtlCache  # transcripts aligned to their documents, by what they were computed from
    documents: TtlCache  # each lecture's materials' texts, by their names and hashes (re-read from files otherwise)

    @classmethod
    def from_settings(cls, perf: PerfSettings) -> ApiCaches:
        """Empty caches with the lifetimes and bounds of ``perf``."""
        return cls(
            TtlCache(perf.caller_seconds, perf.max_entries, jitter=JITTER),
            TtlCache(perf.lecture_seconds, MANIFESTS, jitter=JITTER),
            TtlCache(ALIGNMENT_SECONDS, ALIGNMENTS),
            TtlCache(ALIGNMENT_SECONDS, ALIGNMENTS),
        )

    def clear(self) -> None:
        """Forget every entry of every cache: the next request reads everything afresh."""
        for cache in (self.callers, self.manifests, self.alignments, self.documents):
            cache.clear()
