"""What the API holds in one process between requests, in one object that the app owns.

``create_app`` builds one ``ApiRuntime`` and puts it in the ``ApiContext`` (``ctx.runtime``); routes reach its
parts through the context, and no module of the API keeps state of its own (``tests/test_process_state.py``).

* ``caches`` (``caches.ApiCaches``): callers for ``perf.caller_seconds``, media manifests for ``perf.lecture_seconds``;
* ``callers``: the ``CoalescedLoader`` that reads the caller-cache misses of concurrent requests together
  (``perf.gather_ms``);
* ``writer``: the progress group writer of the app's database (``perf.group_commit_max``, ``perf.gather_ms``);
* ``search``: the search index (``SearchIndexSlot``);
* ``pages``: the one Jinja environment of every page (``pages.page_environment``);
* ``visibility``: who may see which course and lecture, over its one cache of ``perf.lecture_seconds``
  (``apps.api.plumbing.visibility``; also ``ctx.visibility``);
* ``secrets``: the ``SecretVerifier`` that hashes activation codes at the cost of ``auth.argon2_*``;
* ``forms``: released quiz forms, kept parsed and re-checked every ``FORM_RECHECK_SECONDS`` (``ReleasedForms``).

Lifetimes: everything lives as long as the app. The app's lifespan opens the search index at start-up and, at
shutdown, calls ``close``: the index closes and the writer answers every write queued, then stops its thread.
Served without its lifespan (a test client outside ``with``), the index opens at first use and the writer's
thread stops after 30 s idle. Both open again if the app is used after ``close``.

Invalidation: entries expire on their own after their seconds; ``clear`` forgets every cached entry at once
(after a change the caches must not hide, and in tests). Two apps in one process share nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from jinja2 import Environment

from diemcau.adapters.db.group_commit import GroupWriter
from diemcau.adapters.db.quizzes import ReleasedForms
from diemcau.adapters.passwords import SecretVerifier
from diemcau.adapters.storage import Stores
from diemcau.apps.api.plumbing.caches import ApiCaches
from diemcau.apps.api.plumbing.coalesced_loads import CoalescedLoader
from diemcau.apps.api.plumbing.visibility import Visibility
from diemcau.search.index import SearchIndex

# How long shutdown waits for the writer to answer what it holds: a writer stuck on the database must not hold
# the stop (the hub kills a service after 30 s); writes it never committed were acknowledged to nobody, and the
# players send them again.
WRITER_CLOSE_SECONDS = 10.0


class SearchIndexSlot:
    """The app's search index: opened once, on start-up or at first use, and closed at shutdown (used again
    afterwards, it opens again). Thread-safe: routes search from the thread pool."""

    def __init__(self, open_index: Callable[[], SearchIndex]) -> None:
        self._open = open_index
        self._index: SearchIndex | None = None
        self._lock = threading.Lock()

    def index(self) -> SearchIndex:
        """The open index (opened now if it is not)."""
        with self._lock:
            if self._index is None:
                self._index = self._open()
            return self._index

    def close(self) -> None:
        """Close the index if it is open."""
        with self._lock:
            index, self._index = self._index, None
        if index is not None:
            index.close()


@dataclass(frozen=True)
class ApiRuntime:
    """The API's per-process state, built by ``create_app`` (see the module's docstring)."""

    caches: ApiCaches
    callers: CoalescedLoader  # hub username → ``access.Caller`` (or its refusal)
    writer: GroupWriter
    search: SearchIndexSlot
    pages: Environment
    visibility: Visibility
    secrets: SecretVerifier
    forms: ReleasedForms
    stores: Stores  # media, transcripts and materials (adapters/storage.py)

    def clear(self) -> None:
        """Forget every cached entry (callers, manifests, visibility's facts, quiz forms): the next requests read
        afresh."""
        self.caches.clear()
        self.visibility.forget()
        self.forms.clear()

    def close(self) -> None:
        """At shutdown: close the search index, and let the writer answer what is queued and stop."""
        self.search.close()
        self.writer.close(timeout=WRITER_CLOSE_SECONDS)
