"""How a query is matched and ranked: tiers of match expressions, and their FTS5 rendering (pure).

Ranking is by *tier* first (then, within a tier, the most recently indexed rows first):

1. when the query carries diacritics, the exact (diacritic-keeping) column before the folded one, so "bàn"
   ranks "bàn" above "bán", "bạn" and "ban";
2. the plain words side by side, in the order typed, before the same words scattered over the segment, so a
   phrase beats scattered words even without quotes (among exact matches when the query has diacritics).

A query without diacritics has only folded tiers: "dang vien" matches "đảng viên", "đang viên", … alike.
Every tier is a list of *groups*; a group is a run of tokens that must appear side by side (a single token is
a group of one); a segment matches a tier when it contains every group.
"""

from __future__ import annotations

from dataclasses import dataclass

from diemcau.core.search_query import SearchQuery
from diemcau.core.search_text import fold_token

EXACT = "exact"
FOLDED = "folded"


@dataclass(frozen=True)
class Tier:
    """One match expression: every group (a run of adjacent tokens) must occur in ``column``."""

    rank: int  # 0 is best
    column: str  # EXACT or FOLDED
    groups: tuple[tuple[str, ...], ...]


def _groups(query: SearchQuery, adjacent: bool, column: str) -> tuple[tuple[str, ...], ...]:
    words = (query.terms,) if adjacent else tuple((term,) for term in query.terms)
    groups = words + query.phrases
    if column == FOLDED:
        groups = tuple(tuple(fold_token(token) for token in group) for group in groups)
    return tuple(group for group in groups if group)


def match_tiers(query: SearchQuery) -> tuple[Tier, ...]:
    """The tiers to try, best first (none for an empty query)."""
    if query.is_empty:
        return ()
    adjacency = (True, False) if len(query.terms) > 1 else (False,)
    if query.has_diacritics:
        # Adjacency is ranked within exact matches only: a folded phrase of common words ("cua song") costs a
        # scan of every segment holding both, and a query typed with diacritics is best served by exact hits.
        plans = [(EXACT, adjacent) for adjacent in adjacency] + [(FOLDED, False)]
    else:
        plans = [(FOLDED, adjacent) for adjacent in adjacency]
    return tuple(Tier(rank, column, _groups(query, adjacent, column)) for rank, (column, adjacent) in enumerate(plans))


def fts5_string(token: str) -> str:
    """An FTS5 string literal: double quotes around, inner double quotes doubled (datasette's rule)."""
    return '"' + token.replace('"', '""') + '"'


def fts5_expression(tier: Tier, tags: tuple[str, ...] = ()) -> str:
    """The FTS5 MATCH expression of a tier, optionally limited to rows carrying one of ``tags``.

    Each group becomes a column-filtered phrase (``folded : "dang vien"``), joined with AND. Tokens are
    quoted as strings, so nothing a user typed can act as FTS5 syntax.
    """
    parts = [f"{tier.column} : {fts5_string(' '.join(group))}" for group in tier.groups]
    if tags:
        parts.append("tags : (" + " OR ".join(fts5_string(tag) for tag in tags) + ")")
    return " AND ".join(parts)


def course_tag(course_id: str) -> str:
    """A single letters-and-digits token naming a course (course ids contain '-' and '_', which split words)."""
    return "c" + course_id.encode("utf-8").hex()
