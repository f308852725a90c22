"""From matched rows to hits: highlighted, HTML-escaped snippets, deep links, and grouping (pure).

Snippets are built here rather than by the search engine, so both backends produce the same HTML, and
escaping happens in exactly one place: every character of a transcript goes through ``html.escape`` and
only our own ``<mark>`` tags are added, so a transcript can never inject markup.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from html import escape
from urllib.parse import quote

from diemcau.core.search_text import MAX_TOKEN_CHARS, TOKEN_PATTERN as _TOKEN, fold_token

SPOKEN = "spoken"
DOCUMENT = "document"
GROUP_GAP_SECONDS = 30.0
GROUP_MAX_SEGMENTS = 4  # a common word matches every segment: a group is a moment, not the whole lecture
SNIPPET_TOKENS = 40
ELLIPSIS = "…"


@dataclass(frozen=True)
class SegmentMatch:
    """One matched row as a backend returns it: where it is, its text, and how well it matched."""

    row_id: int
    lecture_id: str
    title: str
    course_id: str
    kind: str  # SPOKEN or DOCUMENT
    start: float | None
    end: float | None
    text: str
    doc_name: str = ""
    page: int | None = None
    tier: int = 0
    score: float = 0.0  # lower is better within a tier (the backends use -row id: newest first)


@dataclass(frozen=True)
class Hit:
    """One search result: a segment, or several adjacent ones in one lecture, ready to show."""

    lecture_id: str
    title: str
    course_id: str
    kind: str
    start: float | None
    end: float | None
    text: str
    snippet: str  # HTML: escaped text with the matched words in <mark>
    link: str  # the player at that moment, or the document page
    doc_name: str = ""
    page: int | None = None
    segments: int = 1

    def as_dict(self) -> dict[str, object]:
        """The hit as plain JSON-ready data."""
        return asdict(self)


def highlight(text: str, folded_terms: frozenset[str], max_tokens: int = SNIPPET_TOKENS) -> str:
    """``text`` HTML-escaped, each word whose folded form is a query word wrapped in ``<mark>``.

    A long text is cut to a window of ``max_tokens`` words around the first match, with ellipses.
    """
    nfc = unicodedata.normalize("NFC", text)
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(nfc)]
    marked = [i for i, (start, end) in enumerate(spans) if fold_token(nfc[start:end])[:MAX_TOKEN_CHARS] in folded_terms]
    first, last = 0, len(spans)
    if len(spans) > max_tokens:
        first = max(0, (marked[0] if marked else 0) - max_tokens // 4)
        last = min(len(spans), first + max_tokens)
    begin = spans[first][0] if first > 0 else 0
    finish = spans[last - 1][1] if last < len(spans) else len(nfc)
    pieces = [ELLIPSIS] if first > 0 else []
    cursor = begin
    for i in marked:
        if first <= i < last:
            start, end = spans[i]
            pieces += [escape(nfc[cursor:start]), "<mark>", escape(nfc[start:end]), "</mark>"]
            cursor = end
    pieces.append(escape(nfc[cursor:finish]))
    if last < len(spans):
        pieces.append(ELLIPSIS)
    return "".join(pieces).strip()


def player_link(prefix: str, lecture_id: str, start: float | None) -> str:
    """The deep link that opens the player at ``start`` seconds (rounded down)."""
    seconds = max(0, int(start or 0))
    return f"{prefix}/lectures/{quote(lecture_id, safe='')}?t={seconds}"


def document_link(prefix: str, lecture_id: str, doc_name: str, page: int | None) -> str:
    """The link to a lecture's attached document at ``page``."""
    return f"{prefix}/lectures/{quote(lecture_id, safe='')}?doc={quote(doc_name, safe='')}&page={page or 1}"


def _place(match: SegmentMatch) -> tuple:
    return (match.lecture_id, match.kind, match.doc_name, match.page or 0, match.start or 0.0)


def group_matches(matches: Iterable[SegmentMatch], gap: float = GROUP_GAP_SECONDS) -> list[list[SegmentMatch]]:
    """Spoken matches of one lecture less than ``gap`` seconds apart form one group (of at most
    ``GROUP_MAX_SEGMENTS``); a document's matches group by page. Groups come best first: by their best
    member's (tier, score)."""
    groups: list[list[SegmentMatch]] = []
    for match in sorted(matches, key=_place):
        if groups and len(groups[-1]) < GROUP_MAX_SEGMENTS and _adjacent(groups[-1][-1], match, gap):
            groups[-1].append(match)
        else:
            groups.append([match])
    return sorted(groups, key=lambda group: min((m.tier, m.score, m.row_id) for m in group))


def _adjacent(previous: SegmentMatch, match: SegmentMatch, gap: float) -> bool:
    if (previous.lecture_id, previous.kind) != (match.lecture_id, match.kind):
        return False
    if match.kind == DOCUMENT:
        return (previous.doc_name, previous.page) == (match.doc_name, match.page)
    return (match.start or 0.0) - (previous.end or 0.0) <= gap


def hit_of(group: list[SegmentMatch], folded_terms: frozenset[str], prefix: str) -> Hit:
    """One hit from a group of adjacent matches (in time order)."""
    head, tail = group[0], group[-1]
    snippet = f" {ELLIPSIS} ".join(highlight(m.text, folded_terms) for m in group)
    if head.kind == DOCUMENT:
        link = document_link(prefix, head.lecture_id, head.doc_name, head.page)
    else:
        link = player_link(prefix, head.lecture_id, head.start)
    text = " ".join(m.text for m in group)
    return Hit(
        head.lecture_id,
        head.title,
        head.course_id,
        head.kind,
        head.start,
        tail.end,
        text,
        snippet,
        link,
        head.doc_name,
        head.page,
        len(group),
    )


def build_hits(matches: Iterable[SegmentMatch], folded_terms: frozenset[str], prefix: str, limit: int) -> list[Hit]:
    """Group, order and cut the matches into at most ``limit`` hits."""
    groups = group_matches(matches)[: max(0, limit)]
    return [hit_of(group, folded_terms, prefix) for group in groups]
