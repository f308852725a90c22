"""Completion summed up the org tree, over time, and along a lecture's timeline: pure functions for dashboards.

* ``tally_units`` counts each member's status in their own unit and in every ancestor unit, so a committee
  reads its subtree level by level without receiving one row per member.
* ``watched_by_day`` is the cumulative number of members who had met the *watching* condition on every lecture,
  day by day; the caller supplies the day each (member, lecture) condition was met.
* ``audience_curve`` is the share of viewers who watched each time bucket of a lecture.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from diemcau.core.orgtree import OrgUnit

STATUSES = ("not_started", "in_progress", "completed", "overdue")


@dataclass(frozen=True)
class UnitTally:
    """How many members of a unit's subtree stand at each status."""

    unit: OrgUnit
    counts: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def completed(self) -> int:
        return self.counts.get("completed", 0)

    @property
    def percent(self) -> float:
        """Share completed, in percent (0 for an empty unit)."""
        return round(100.0 * self.completed / self.total, 1) if self.total else 0.0


def ancestors(path: str) -> list[str]:
    """``/a/b/c/`` → ``["/a/", "/a/b/", "/a/b/c/"]``: the unit's own path and each ancestor's."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def tally_units(units: Sequence[OrgUnit], members: Iterable[tuple[str, str]]) -> list[UnitTally]:
    """Per unit of ``units`` (ordered by path), the statuses of the members within it.

    ``members`` are ``(org unit path, status)`` pairs; a member counts in their unit and every ancestor listed.
    Units without members are kept (with zero counts), so an empty cell shows up rather than hiding.
    """
    by_path: Counter[tuple[str, str]] = Counter(members)  # distinct (path, status) pairs are few
    counts: dict[str, Counter[str]] = {u.path: Counter() for u in units}
    for (path, status), n in by_path.items():
        for prefix in ancestors(path):
            if prefix in counts:
                counts[prefix][status] += n
    return [UnitTally(u, {s: counts[u.path].get(s, 0) for s in STATUSES}) for u in sorted(units, key=lambda u: u.path)]


def met_on(lecture_days: Mapping[str, dt.date], lectures: Sequence[str]) -> dt.date | None:
    """The day a member had met the watching condition for every lecture (``None`` if not yet)."""
    if not lectures or any(lecture not in lecture_days for lecture in lectures):
        return None
    return max(lecture_days[lecture] for lecture in lectures)


def watched_by_day(days_met: Iterable[dt.date | None], first: dt.date, last: dt.date) -> list[tuple[dt.date, int]]:
    """Cumulative count of members whose watching condition was met on or before each day ``first..last``.

    Members who met it before ``first`` are counted from ``first`` on; ``None`` (not yet) is never counted.
    """
    per_day = Counter(max(day, first) for day in days_met if day is not None and day <= last)
    series, running = [], 0
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        running += per_day.get(day, 0)
        series.append((day, running))
    return series


def audience_curve(
    viewers: Iterable[Sequence[Sequence[float]]], duration: float, buckets: int
) -> tuple[int, list[float]]:
    """(number of viewers, share of them in percent who watched the middle of each of ``buckets`` time buckets).

    Each viewer is a list of watched ``[start, end]`` intervals (disjoint, in seconds). A difference array keeps
    it linear in intervals plus buckets, so a province's viewers of one lecture stay cheap.
    """
    if duration <= 0 or buckets <= 0:
        return 0, []
    width = duration / buckets
    delta = [0] * (buckets + 1)
    count = 0
    for intervals in viewers:
        if not intervals:
            continue
        count += 1
        for start, end in intervals:
            first = max(0, math.ceil(start / width - 0.5))
            last = min(buckets - 1, math.floor(end / width - 0.5))
            if first <= last:
                delta[first] += 1
                delta[last + 1] -= 1
    shares, running = [], 0
    for i in range(buckets):
        running += delta[i]
        shares.append(round(100.0 * running / count, 1) if count else 0.0)
    return count, shares
