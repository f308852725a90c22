"""Watched intervals: merging the player's progress events into coverage and a resume position.

The player reports *spans it actually played* (``from``–``to`` in lecture seconds) with a client event id,
rather than bare positions: a lost or replayed event then never inflates coverage, and events queued offline
can arrive late and out of order. Seeks move the resume position but add no coverage.

Coverage is also bounded by real time (``Pace``): a member cannot have watched more of a lecture than the
fastest playback speed allows in the time since they first opened it, so one forged heartbeat ``0–86400``
right after opening a lecture gains a minute, not the lecture. See docs/security/progress.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

Interval = tuple[float, float]

# Spans shorter than this are noise (a heartbeat right after a seek) and are ignored.
MIN_SPAN_SECONDS = 0.25
# The speeds the player's menu offers (``apps.api.pages.player``); the fastest one bounds how fast coverage may grow.
PLAYBACK_SPEEDS = (0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
MAX_PLAYBACK_SPEED = max(PLAYBACK_SPEEDS)
# Slack, in heartbeats played at the fastest speed: a session whose first contact is its first post (a page
# opened before first contacts were recorded, a client of the API itself) keeps its first heartbeat whole, and
# as much again absorbs a timer firing late in a throttled tab, the ``ended`` event rounding up to the end and
# the clocks of several API processes. With the default 15 s heartbeat: 60 s of lecture.
SLACK_HEARTBEATS = 2
# ...but never more than this share of the lecture: completion asks for 95 % watched, so on a short lecture (the
# demo's is 46 s) one forged post right after opening the player must not be able to claim it. Honest play needs
# almost no slack (the player page records the first contact before anything plays); what a short lecture loses
# is only the first heartbeat of a client that never opened the player.
SLACK_SHARE = 0.1


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
    return summarise_paced(events, duration, prior)[0]


@dataclass(frozen=True)
class Pace:
    """How fast a member's watched time may grow: ``max_speed`` lecture seconds per second of real time since
    their first contact with the lecture (opening the player, downloading it), plus ``slack_seconds``."""

    max_speed: float
    slack_seconds: float

    @classmethod
    def for_heartbeat(cls, heartbeat_seconds: float, duration: float = math.inf) -> Pace:
        """The pace for a player that reports every ``heartbeat_seconds`` (``settings.player``), on a lecture of
        ``duration`` seconds (the slack is at most ``SLACK_SHARE`` of it)."""
        slack = min(SLACK_HEARTBEATS * heartbeat_seconds * MAX_PLAYBACK_SPEED, SLACK_SHARE * duration)
        return cls(MAX_PLAYBACK_SPEED, slack)

    def allowance(self, first_contact: dt.datetime, received_at: dt.datetime) -> float:
        """The most watched seconds a member may have at ``received_at`` (a clock gone backwards counts 0 s)."""
        elapsed = max(0.0, (received_at - first_contact).total_seconds())
        return elapsed * self.max_speed + self.slack_seconds


@dataclass(frozen=True)
class Paced:
    """Spans cut to a watched-time allowance: what may count, and the new seconds refused."""

    spans: tuple[Interval, ...]
    refused_seconds: float


def _unwatched(span: Interval, watched: Sequence[Interval]) -> list[Interval]:
    """The parts of ``span`` outside the sorted, disjoint ``watched`` intervals."""
    parts, at = [], span[0]
    for a, b in watched:
        if b <= at or a >= span[1]:
            continue
        if a > at:
            parts.append((at, a))
        at = max(at, b)
    if at < span[1]:
        parts.append((at, span[1]))
    return parts


def within_allowance(spans: Iterable[Interval], prior: Iterable[Interval], allowance: float) -> Paced:
    """Keep the new coverage of ``spans`` (in the order played) while the total watched stays within
    ``allowance`` seconds; the rest is refused. Stretches watched before cost nothing, so rewatching is never
    refused, and a span is cut where the allowance runs out."""
    spans = list(spans)
    watched = list(merge_intervals(prior))
    budget = allowance - sum(b - a for a, b in watched)
    if sum(b - a for a, b in spans) <= budget:  # the usual case, honest play: everything counts
        return Paced(tuple(spans), 0.0)
    kept: list[Interval] = []
    refused = 0.0
    for span in spans:
        taken = []
        for a, b in _unwatched(span, watched):
            take = min(b - a, max(budget, 0.0))
            if take > 0:
                taken.append((a, a + take))
                budget -= take
            refused += (b - a) - take
        kept += taken
        watched = list(merge_intervals([*watched, *taken]))
    return Paced(tuple(kept), round(refused, 3))


def summarise_paced(
    events: Iterable[ProgressEvent], duration: float, prior: Iterable[Interval] = (), allowance: float = math.inf
) -> tuple[Progress, float]:
    """``summarise``, with the new coverage held within ``allowance`` watched seconds (``Pace.allowance``);
    also returns the seconds refused."""
    if duration <= 0:
        return Progress((), 0.0, 0.0, 0.0), 0.0
    events = unique_events(events)
    prior = tuple(prior)
    played = [
        clamp_span(e.start, e.end, duration) for e in sorted(events, key=lambda e: e.seq) if e.kind != EventKind.SEEK
    ]
    paced = within_allowance((s for s in played if s is not None), prior, allowance)
    intervals = merge_intervals([*prior, *paced.spans])
    watched = sum(b - a for a, b in intervals)
    resume = _resume_position(events, duration)
    return Progress(intervals, watched, round(100.0 * watched / duration, 2), resume), paced.refused_seconds


def _resume_position(events: list[ProgressEvent], duration: float) -> float:
    if not events:
        return 0.0
    last = max(events, key=lambda e: e.seq)
    if last.kind == EventKind.ENDED:
        return 0.0  # finished: start over next time
    return min(max(last.end, 0.0), duration)


END_TOLERANCE_SECONDS = 2.0  # a last span may stop this short of the container's duration and still be the end
FINISHED_TAIL_SECONDS = 60.0  # a resume point this close to the end, with the rest heard, is a lecture finished


def heard_to_the_end(progress: Progress, duration: float) -> bool:
    """Did the member's listening last reach the end of the lecture, so that opening it again should start over
    rather than offer "Phát tiếp từ <the end>"? True when the end is covered and the member stands either at 0
    (the ``ended`` event resets the resume point) or inside that last covered stretch, within
    ``FINISHED_TAIL_SECONDS`` of the end (no ``ended`` arrived: a phone stalled on the last fragment, or a
    throttled background tab reported its last heartbeat late in the lecture)."""
    if duration <= 0:
        return False
    last = next((iv for iv in progress.intervals if iv[1] >= duration - END_TOLERANCE_SECONDS), None)
    if last is None:
        return False
    at = progress.resume_position
    return at == 0 or (at >= last[0] and at >= duration - FINISHED_TAIL_SECONDS)
