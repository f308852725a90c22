"""The search index interface shared by both backends, and the ranking both run (``TieredSearch``).

A backend stores, for each published lecture, its metadata (``LectureMeta``) and one row per transcript
segment or document passage, with the exact and folded forms of its words indexed. A backend answers two
narrow questions — which rows match a tier's expression (``_candidates``), and what those rows hold
(``_matches``) — and ``TieredSearch.search`` does the rest: tiers in order, grouping, snippets, links.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from diemcau.core.search_match import Tier, match_tiers
from diemcau.core.search_query import SearchQuery, parse_query
from diemcau.core.search_results import Hit, SegmentMatch, group_matches, hit_of
from diemcau.core.search_text import fold
from diemcau.core.transcript import Segment

DEFAULT_PREFIX = "/services/diemcau"
MAX_LIMIT = 100
PASSAGE_WORDS = 60  # a document page is indexed in passages of about this many words


class LectureNotIndexed(LookupError):
    """A document was offered for a lecture the index does not hold (unpublished, or not indexed yet)."""


@dataclass(frozen=True)
class LectureMeta:
    """What the index keeps about a lecture, to show and filter hits."""

    lecture_id: str
    title: str
    course_id: str
    speaker: str = ""
    resolution: str = ""
    created_on: dt.date | None = None


@dataclass(frozen=True)
class SearchFilters:
    """Limits set by the caller rather than the query: the courses the viewer may see (``None``: all)."""

    courses: frozenset[str] | None = None


@runtime_checkable
class SearchIndex(Protocol):
    """What every backend offers. Writes for one lecture are atomic: all its rows change, or none."""

    def ensure_index(self) -> None:
        """Create the index's tables if missing (idempotent); rebuild derived columns after a format change."""

    def index_lecture(self, meta: LectureMeta, segments: Iterable[Segment]) -> int:
        """Replace a lecture's metadata and spoken segments (its documents stay); returns rows indexed."""

    def index_document(self, lecture_id: str, doc_name: str, text_pages: Sequence[str]) -> int:
        """Replace one attached document of an indexed lecture, page by page; returns passages indexed."""

    def remove_lecture(self, lecture_id: str) -> bool:
        """Forget a lecture and everything indexed for it; returns whether it was there."""

    def search(self, query: SearchQuery | str, limit: int = 20, filters: SearchFilters = SearchFilters()) -> list[Hit]:
        """The best hits for ``query``, at most ``limit``, within ``filters``; never raises on a bad query."""

    def rebuild(self, lectures: Iterable[tuple[LectureMeta, Iterable[Segment]]]) -> int:
        """Empty the index and index these lectures (in one transaction); returns rows indexed."""

    def lecture_ids(self) -> set[str]:
        """The ids of every indexed lecture."""

    def close(self) -> None:
        """Release connections."""


def effective_courses(query: SearchQuery, filters: SearchFilters) -> frozenset[str] | None:
    """The courses a search may return: the viewer's visible ones, narrowed by ``course:`` (``None``: any)."""
    if query.course is None:
        return filters.courses
    if filters.courses is None or query.course in filters.courses:
        return frozenset({query.course})
    return frozenset()


def like_contains(value: str) -> str:
    """A LIKE pattern matching ``value`` anywhere, with ``%``, ``_`` and ``\\`` escaped (ESCAPE '\\')."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def lecture_conditions(query: SearchQuery) -> tuple[list[str], dict[str, object]]:
    """SQL conditions on ``search_lectures`` for the query's speaker, resolution and date filters."""
    conditions: list[str] = []
    params: dict[str, object] = {}
    for key in ("speaker", "resolution"):
        value = getattr(query, key)
        if value:
            conditions.append(f"{key}_folded LIKE :{key} ESCAPE '\\'")
            params[key] = like_contains(value)
    if query.after:
        conditions.append("created_on >= :after")
        params["after"] = query.after.isoformat()
    if query.before:
        conditions.append("created_on <= :before")
        params["before"] = query.before.isoformat()
    return conditions, params


def passages(text_pages: Sequence[str], words: int = PASSAGE_WORDS) -> list[tuple[int, str]]:
    """``(page number from 1, passage text)``: each page cut at paragraph breaks into passages of ~``words``."""
    out: list[tuple[int, str]] = []
    for number, page in enumerate(text_pages, start=1):
        current: list[str] = []
        for paragraph in str(page).split("\n"):
            current.extend(paragraph.split())
            if len(current) >= words:
                out.append((number, " ".join(current)))
                current = []
        if current:
            out.append((number, " ".join(current)))
    return out


def meta_row(meta: LectureMeta) -> dict[str, object]:
    """A lecture's metadata as the row both backends store."""
    return {
        "lecture_id": meta.lecture_id,
        "title": meta.title,
        "course_id": meta.course_id,
        "speaker": meta.speaker,
        "resolution": meta.resolution,
        "speaker_folded": fold(meta.speaker),
        "resolution_folded": fold(meta.resolution),
        "created_on": meta.created_on.isoformat() if meta.created_on else None,
    }


class TieredSearch:
    """The ranking both backends share: each tier in order fills a pool of candidates, best tier first.

    A backend answers ``_candidates``, ``_places`` and ``_texts`` (SQLite: cheap in-process calls), or
    overrides ``_matches`` and ``_with_texts`` to answer a whole search at once (PostgreSQL: one statement).
    """

    prefix: str = DEFAULT_PREFIX

    def _candidates(
        self, tier: Tier, courses: frozenset[str] | None, query: SearchQuery, limit: int
    ) -> list[tuple[int, float]]:
        raise NotImplementedError

    def _places(self, ranked: dict[int, tuple[int, float]]) -> list[SegmentMatch]:
        """The candidates where they are (lecture, kind, times, page), without text or title yet."""
        raise NotImplementedError

    def _texts(self, ids: list[int]) -> dict[int, tuple[str, str, str]]:
        """``id → (title, course_id, text)`` for the rows that made it into hits."""
        raise NotImplementedError

    def _matches(
        self, tiers: tuple[Tier, ...], courses: frozenset[str] | None, query: SearchQuery, pool: int
    ) -> list[SegmentMatch]:
        """The pool: the tiers in order, each adding up to ``pool`` rows, until ``pool`` rows are found."""
        ranked: dict[int, tuple[int, float]] = {}
        for tier in tiers:
            for row_id, score in self._candidates(tier, courses, query, pool):
                ranked.setdefault(row_id, (tier.rank, score))
            if len(ranked) >= pool:
                break
        return self._places(ranked)

    def _with_texts(self, groups: list[list[SegmentMatch]]) -> list[list[SegmentMatch]]:
        """The groups that made it into hits, with their rows' title, course and text."""
        texts = self._texts([match.row_id for group in groups for match in group])
        return [
            [replace(m, title=texts[m.row_id][0], course_id=texts[m.row_id][1], text=texts[m.row_id][2]) for m in group]
            for group in groups
        ]

    def search(self, query: SearchQuery | str, limit: int = 20, filters: SearchFilters = SearchFilters()) -> list[Hit]:
        """The best hits for ``query`` (see ``core.search_match`` for the order); never raises on a bad query."""
        parsed = query if isinstance(query, SearchQuery) else parse_query(query)
        limit = max(1, min(int(limit), MAX_LIMIT))
        courses = effective_courses(parsed, filters)
        if parsed.is_empty or courses == frozenset():
            return []
        pool = max(limit * 3, 30)
        matches = self._matches(match_tiers(parsed), courses, parsed, pool)
        groups = self._with_texts(group_matches(matches)[:limit])  # text is read for these rows only
        return [hit_of(group, parsed.folded_terms, self.prefix) for group in groups]
