"""Watched intervals: merging the player's progress events into coverage and a resume position.

The player reports *spans it actually played* (``from``–``to`` in lecture seconds) with a client event id,
rather than bare positions: a lost or replayed event then never inflates coverage, and events queued offline
can arrive late and out of order. Seeks move the resume position but add no coverage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

Interval = tuple[float, float]

# Spans shorter than this are noise (a heartbeat right after a seek) and are ignored.
MIN_SPAN_SECONDS = 0.25


class EventKind(StrEnum):
    HEARTBEAT = "heartbeat"  # played from..to since the last event
    SEEK = "seek"  # jumped to ``to``; nothing played
    ENDED = "ended"  # played from..to and reached the end


@dataclass(frozen=True)
class ProgressEvent:
    """One event from the player; ``seq`` orders a client's events (offline replay keeps it)."""

    event_id: str
    kind: EventKind
    start: float
    end: float
    seq: int = 0


@dataclass(frozen=True)
class Progress:
    """What a member watched of one lecture."""

    intervals: tuple[Interval, ...]
    watched_seconds: float
    coverage_percent: float
    resume_position: float


def clamp_span(start: float, end: float, duration: float) -> Interval | None:
    """The span limited to the lecture, or ``None`` when nothing of it lies inside (or it is reversed/NaN)."""
    if not (start == start and end == end):  # NaN guard without importing math
        return None
    low, high = max(0.0, start), min(duration, end)
    return (low, high) if high - low >= MIN_SPAN_SECONDS else None


def merge_intervals(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Union of intervals as sorted, disjoint intervals (touching ones are joined)."""
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((a, b) for a, b in merged)


def unique_events(events: Iterable[ProgressEvent]) -> list[ProgressEvent]:
    """Events with duplicate ids dropped (a replayed offline queue), first occurrence kept."""
    seen: set[str] = set()
    unique = []
    for event in events:
        if event.event_id not in seen:
            seen.add(event.event_id)
            unique.append(event)
    return unique


def summarise(events: Iterable[ProgressEvent], duration: float, prior: Iterable[Interval] = ()) -> Progress:
    """Merge events (and already-stored intervals) into coverage and the resume position."""
    if duration <= 0:
        return Progress((), 0.0, 0.0, 0.0)
    events = unique_events(events)
    spans = [clamp_span(e.start, e.end, duration) for e in events if e.kind != EventKind.SEEK]
    intervals = merge_intervals([*prior, *(s for s in spans if s is not None)])
    watched = sum(b - a for a, b in intervals)
    resume = _resume_position(events, duration)
    return Progress(intervals, watched, round(100.0 * watched / duration, 2), resume)


def _resume_position(events: list[ProgressEvent], duration: float) -> float:
    if not events:
        return 0.0
    last = max(events, key=lambda e: e.seq)
    if last.kind == EventKind.ENDED:
        return 0.0  # finished: start over next time
    return min(max(last.end, 0.0), duration)
