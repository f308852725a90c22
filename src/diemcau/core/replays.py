"""Replayed moments: which stretches of a lecture members watched again.

Merging a member's watched intervals (``core.progress``) keeps coverage honest but forgets how often a stretch
was played: watching 5:00–6:00 three times leaves one interval. So at ingest, before merging, the part of each
newly played span that the member had already watched (earlier, or earlier in the same batch) is *replayed*,
and its seconds are added to a per-lecture counter of fixed ``BUCKET_SECONDS`` stretches. Totals do not depend
on the order events arrive in (a late offline queue counts the same), and no member is stored with them.

The unit is replayed seconds; divided by a stretch's length it reads "watched again N times" (one member
replaying a minute twice counts 2, like two members replaying it once).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from diemcau.core.progress import EventKind, Interval, ProgressEvent, clamp_span, merge_intervals, unique_events

BUCKET_SECONDS = 10.0


def _overlap(span: Interval, watched: Sequence[Interval]) -> list[Interval]:
    start, end = span
    return [(max(start, a), min(end, b)) for a, b in watched if min(end, b) > max(start, a)]


def replayed_spans(events: Iterable[ProgressEvent], duration: float, prior: Iterable[Interval] = ()) -> list[Interval]:
    """The parts of the events' played spans (seeks play nothing) the member had already watched."""
    if duration <= 0:
        return []
    watched = list(merge_intervals(prior))
    replayed: list[Interval] = []
    for event in sorted(unique_events(events), key=lambda e: e.seq):
        span = None if event.kind == EventKind.SEEK else clamp_span(event.start, event.end, duration)
        if span is None:
            continue
        replayed.extend(_overlap(span, watched))
        watched = list(merge_intervals([*watched, span]))
    return replayed


def seconds_by_bucket(spans: Iterable[Interval], width: float = BUCKET_SECONDS) -> dict[int, float]:
    """Replayed seconds per fixed stretch ``[k*width, (k+1)*width)``, keyed by ``k`` (empty ones left out)."""
    seconds: dict[int, float] = defaultdict(float)
    for start, end in spans:
        for k in range(int(start // width), math.ceil(end / width)):
            part = min(end, (k + 1) * width) - max(start, k * width)
            if part > 0:
                seconds[k] += part
    return {k: round(v, 3) for k, v in seconds.items() if v > 0}


def _stretch(k: int, width: float, duration: float) -> Interval:
    return k * width, min((k + 1) * width, duration)


def rebucket(stored: Mapping[int, float], duration: float, buckets: int, width: float = BUCKET_SECONDS) -> list[float]:
    """Times each of ``buckets`` equal stretches was watched again: replayed seconds over the stretch's length.

    A stored stretch's seconds are taken as spread evenly over it, and split by overlap, so a 10 s counter
    gives a smooth curve at any bucket count.
    """
    if duration <= 0 or buckets <= 0:
        return []
    size = duration / buckets
    seconds = [0.0] * buckets
    for k, value in stored.items():
        start, end = _stretch(k, width, duration)
        if end <= start:
            continue
        density = value / (end - start)
        for i in range(max(0, int(start // size)), min(buckets, math.ceil(end / size))):
            part = min(end, (i + 1) * size) - max(start, i * size)
            if part > 0:
                seconds[i] += density * part
    return [round(s / size, 2) for s in seconds]


@dataclass(frozen=True)
class Replayed:
    """A stretch of the lecture and how many times it was watched again."""

    start: float
    end: float
    times: float


def most_replayed(
    stored: Mapping[int, float], duration: float, limit: int = 5, width: float = BUCKET_SECONDS
) -> list[Replayed]:
    """The ``limit`` stretches watched again most often, most first (earlier first among equals)."""
    found = []
    for k, value in stored.items():
        start, end = _stretch(k, width, duration)
        if end > start and value > 0:
            found.append(Replayed(start, end, round(value / (end - start), 2)))
    found.sort(key=lambda r: (-r.times, r.start))
    return found[:limit]
