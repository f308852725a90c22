"""The lecture analytics view-model (for trainers): the audience drop-off curve, the most searched terms, and
questions and replays along the lecture.

Input is ``GET /api/lectures/{id}/analytics``: for each time bucket of the lecture, the share of its online
viewers who watched the middle of that stretch (from their merged watched intervals), and the searches whose
hits included the lecture. Members who only attended a group screening have no timeline and are not in it.
Each bucket also carries the questions asked within it and how many times it was watched again (replayed
seconds over its length, counted at ingest: see ``core.replays``); ``most_replayed`` lists 10 s stretches.
``refused_seconds`` is the watching claimed faster than real time allows and not counted (``core.progress.Pace``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from diemcau.i18n import t


@dataclass(frozen=True)
class DropOff:
    """The curve, with the stretch where most viewers left."""

    title: str
    viewers: int
    minutes: tuple[float, ...]  # the middle of each bucket, in minutes
    shares: tuple[float, ...]
    steepest_minute: float | None  # the start of the stretch where the share has fallen most from the one before
    steepest_drop: float
    end_share: float  # share who watched the last stretch


def drop_off(analytics: Mapping) -> DropOff:
    """The curve of an analytics answer, and where it falls most."""
    buckets = analytics["buckets"]
    minutes = tuple(round((b["start"] + b["end"]) / 120.0, 3) for b in buckets)
    shares = tuple(b["share"] for b in buckets)
    drops = [(shares[i] - shares[i + 1], -i) for i in range(len(shares) - 1)]  # the earliest of equal drops
    drop, where = max(drops, default=(0.0, None))
    steepest = buckets[1 - where]["start"] / 60.0 if where is not None and drop > 0 else None
    return DropOff(
        analytics["title"],
        analytics["viewers"],
        minutes,
        shares,
        steepest,
        round(max(drop, 0.0), 1),
        shares[-1] if shares else 0.0,
    )


def clock(minutes: float) -> str:
    """``12:30`` (minutes:seconds), or ``1:02:03`` past the hour."""
    whole = int(round(minutes * 60))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def summary_text(view: DropOff) -> str:
    """How many watched, how many reached the end, and where most left."""
    if not view.viewers:
        return t("dashboard.lecture_no_viewers")
    parts = [t("dashboard.lecture_viewers", viewers=view.viewers, end=f"{view.end_share:g}")]
    if view.steepest_minute is not None:
        parts.append(t("dashboard.lecture_steepest", at=clock(view.steepest_minute), drop=f"{view.steepest_drop:g}"))
    return " ".join(parts)


def refused_text(analytics: Mapping) -> str:
    """How much claimed watching was refused as faster than real time ("" when none, or from an older API)."""
    seconds = analytics.get("refused_seconds", 0.0)
    if not seconds:
        return ""
    return t(
        "dashboard.lecture_refused", minutes=f"{round(seconds / 60, 1):g}", posts=analytics.get("refused_posts", 0)
    )


def terms_html(terms: Sequence[Mapping]) -> str:
    """The most searched terms as an escaped table (searches are typed by members: never trust them as HTML)."""
    if not terms:
        return f"<p>{html.escape(t('dashboard.no_terms'))}</p>"
    head = "".join(f"<th>{html.escape(t('dashboard.column_' + c))}</th>" for c in ("term", "count"))
    head = f"<tr>{head}</tr>"
    rows = "".join(f"<tr><td>{html.escape(term['term'])}</td><td>{term['count']}</td></tr>" for term in terms)
    return f"<table class='diemcau-terms'>{head}{rows}</table>"


@dataclass(frozen=True)
class Moments:
    """Questions asked and times watched again, per bucket (``minutes`` as in ``DropOff``)."""

    minutes: tuple[float, ...]
    questions: tuple[int, ...]
    replays: tuple[float, ...]
    total_questions: int


def moments(analytics: Mapping) -> Moments:
    """The per-bucket questions and replays of an analytics answer (zero where an older API sent none)."""
    buckets = analytics["buckets"]
    minutes = tuple(round((b["start"] + b["end"]) / 120.0, 3) for b in buckets)
    asked, again = tuple(b.get("questions", 0) for b in buckets), tuple(b.get("replays", 0.0) for b in buckets)
    return Moments(minutes, asked, again, analytics.get("questions", 0))


def replayed_line(stretch: Mapping) -> str:
    """``05:00–05:10: được xem lại 4 lần`` for one of ``most_replayed``."""
    start, end = clock(stretch["start"] / 60), clock(stretch["end"] / 60)
    return t("questions.replay_line", start=start, end=end, times=f"{stretch['times']:g}")


def replayed_html(analytics: Mapping) -> str:
    """The most replayed stretches as an escaped list."""
    stretches = analytics.get("most_replayed", [])
    if not stretches:
        return f"<p>{html.escape(t('questions.replays_none'))}</p>"
    items = "".join(f"<li>{html.escape(replayed_line(r))}</li>" for r in stretches)
    return f"<ol class='diemcau-replays'>{items}</ol>"
