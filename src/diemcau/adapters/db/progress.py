"""Recording player events and keeping each member's watched intervals merged, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models_progress import LectureProgressRow, ProgressEventRow
from diemcau.adapters.db.replays import add_replays
from diemcau.core.progress import Progress, ProgressEvent, summarise, unique_events
from diemcau.core.replays import replayed_spans, seconds_by_bucket

MAX_EVENTS_PER_POST = 500
_PROGRESS = LectureProgressRow.__table__
_EVENTS = ProgressEventRow.__table__
_FIELDS = ("intervals", "watched_seconds", "coverage_percent", "resume_position", "last_seq")
# Statements built once, run with parameters: building and cache-keying them per heartbeat cost more CPU than
# running them.
_KEY = (_PROGRESS.c.member == bindparam("m")) & (_PROGRESS.c.lecture_id == bindparam("l"))
# The batch's members × its lectures, a superset of its keys that the primary key serves on both backends (SQLite
# scans the whole table for a row-value ``(member, lecture_id) IN (VALUES …)``); the caller keeps its own keys.
_READ_ROWS = (
    select(_PROGRESS.c.member, _PROGRESS.c.lecture_id, *(_PROGRESS.c[f] for f in _FIELDS))
    .where(_PROGRESS.c.member.in_(bindparam("members", expanding=True)),
           _PROGRESS.c.lecture_id.in_(bindparam("lectures", expanding=True)))
    .order_by(_PROGRESS.c.member, _PROGRESS.c.lecture_id)  # rows locked in one order by every writer
    .with_for_update()
)  # fmt: skip
_UPDATE_ROW = update(_PROGRESS).where(_KEY).values({f: bindparam(f"new_{f}") for f in _FIELDS})
_INSERT_ROW = insert(_PROGRESS)
_INSERT_EVENTS = {
    name: dialect_insert(_EVENTS).on_conflict_do_nothing(index_elements=["member", "lecture_id", "event_id"])
    .returning(_EVENTS.c.member, _EVENTS.c.lecture_id, _EVENTS.c.event_id)
    for name, dialect_insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}  # fmt: skip

Key = tuple[str, str]  # (member, lecture id)
_NOTHING = Progress((), 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class EventsPost:
    """One request's events: a member's player events on one lecture of ``duration`` seconds."""

    member: str
    lecture_id: str
    duration: float
    events: Sequence[ProgressEvent]

    @property
    def key(self) -> Key:
        return self.member, self.lecture_id


@dataclass
class _Summary:
    """A member's stored progress on a lecture, as the batch changes it (``exists``: the row is in the table)."""

    progress: Progress
    last_seq: int
    exists: bool
    changed: bool = False


def _summary_of(row: Any) -> _Summary:  # a LectureProgressRow, or a Core row of ``_READ_ROWS``
    intervals = tuple((a, b) for a, b in row.intervals)
    progress = Progress(intervals, row.watched_seconds, row.coverage_percent, row.resume_position)
    return _Summary(progress, row.last_seq if row.last_seq is not None else -1, exists=True)


def _insert_new(session: Session, posts: Sequence[EventsPost]) -> list[list[ProgressEvent]]:
    """Store the events not seen before in one ``INSERT … ON CONFLICT DO NOTHING … RETURNING``; returns each
    post's newly stored events.

    The unique key (member, lecture, client event id) decides what is new, so two requests carrying the same
    offline queue cannot both count it, and known ids need no separate read. Within the batch an id belongs to
    the first post that carries it, as if the posts had been stored one after another."""
    claimed: set[tuple[str, str, str]] = set()
    mine: list[list[ProgressEvent]] = []
    rows = []
    for post in posts:
        own = []
        for e in unique_events(post.events):
            if (triple := (post.member, post.lecture_id, e.event_id)) not in claimed:
                claimed.add(triple)
                own.append(e)
                rows.append({"member": post.member, "lecture_id": post.lecture_id, "event_id": e.event_id,
                             "kind": str(e.kind), "start": e.start, "end": e.end, "seq": e.seq})  # fmt: skip
        mine.append(own)
    if not rows:
        return mine
    # Core with a list of rows: sent as multi-row INSERTs (SQLAlchemy's "insertmanyvalues").
    stored = set(map(tuple, session.execute(_INSERT_EVENTS[session.get_bind().dialect.name], rows)))
    return [[e for e in own if (post.member, post.lecture_id, e.event_id) in stored]
            for post, own in zip(posts, mine, strict=True)]  # fmt: skip


def _merge(summary: _Summary, fresh: list[ProgressEvent], duration: float, replays: dict[tuple[str, int], float],
           lecture_id: str) -> None:  # fmt: skip
    """Merge newly stored events into ``summary`` and add the stretches they replayed to ``replays``."""
    prior = summary.progress.intervals
    merged = summarise(fresh, duration, prior=prior)
    # Merging forgets stretches watched again; count them first.
    for k, seconds in seconds_by_bucket(replayed_spans(fresh, duration, prior)).items():
        replays[(lecture_id, k)] = round(replays.get((lecture_id, k), 0.0) + seconds, 3)
    newest = max(fresh, key=lambda e: e.seq)
    if newest.seq >= summary.last_seq:
        resume, summary.last_seq = merged.resume_position, newest.seq
    else:  # an older event replayed late moves coverage, not where the member stands
        resume = summary.progress.resume_position
    summary.progress = Progress(tuple(merged.intervals), merged.watched_seconds, merged.coverage_percent, resume)
    summary.changed = True


def _values(summary: _Summary) -> dict[str, Any]:
    p = summary.progress
    return dict(zip(_FIELDS, ([list(i) for i in p.intervals], p.watched_seconds, p.coverage_percent,
                              p.resume_position, summary.last_seq), strict=True))  # fmt: skip


def record_events(
    factory: sessionmaker[Session], member: str, lecture_id: str, duration: float, events: Sequence[ProgressEvent]
) -> Progress:
    """Store events not seen before and merge them into the member's progress; replays change nothing."""
    with transaction(factory) as session:
        return record_posts_in(session, [EventsPost(member, lecture_id, duration, events)])[0]


def record_posts_in(session: Session, posts: Sequence[EventsPost]) -> list[Progress]:
    """Record many requests' events inside the caller's transaction; returns each post's merged progress.

    The result, and what is stored, are those of recording the posts one after another in the given order
    (``group_commit.GroupWriter`` hands a whole batch of concurrent requests here), but in a fixed number of
    statements whatever the batch's size: read the summaries, insert the events, insert the new summaries,
    update the changed ones, add the replays. Core statements, not the ORM unit of work: this runs for every
    heartbeat of every playing member."""
    keys = {post.key for post in posts}
    wanted = {"members": sorted({m for m, _ in keys}), "lectures": sorted({lecture for _, lecture in keys})}
    summaries = {key: _summary_of(row) for row in session.execute(_READ_ROWS, wanted)
                 if (key := (row.member, row.lecture_id)) in keys}  # fmt: skip
    replays: dict[tuple[str, int], float] = {}
    results = []
    for post, fresh in zip(posts, _insert_new(session, posts), strict=True):
        summary = summaries.setdefault(post.key, _Summary(_NOTHING, -1, exists=False))
        if fresh:
            _merge(summary, fresh, post.duration, replays, post.lecture_id)
        results.append(summary.progress)
    new = [{"member": m, "lecture_id": lecture, **_values(s)} for (m, lecture), s in summaries.items()
           if s.changed and not s.exists]  # fmt: skip
    if new:
        session.execute(_INSERT_ROW, new)
    changed = [{"m": m, "l": lecture, **{f"new_{f}": v for f, v in _values(s).items()}}
               for (m, lecture), s in summaries.items() if s.changed and s.exists]  # fmt: skip
    if changed:  # the column's onupdate stamps updated_at (the dashboards' history reads it)
        session.execute(_UPDATE_ROW, changed)
    add_replays(session, replays)
    return results


def load_progress(factory: sessionmaker[Session], member: str, lecture_id: str) -> Progress:
    """The member's progress on one lecture (zero when nothing was watched)."""
    with factory() as session:
        row = session.get(LectureProgressRow, (member, lecture_id))
    return _NOTHING if row is None else _summary_of(row).progress


def coverage_by_lecture(session: Session, members: Sequence[str], lecture_ids: Sequence[str]) -> dict[tuple[str, str], float]:
    """Coverage percent per (member, lecture) for dashboards and completion."""
    rows = session.execute(
        select(LectureProgressRow.member, LectureProgressRow.lecture_id, LectureProgressRow.coverage_percent).where(
            LectureProgressRow.member.in_(members), LectureProgressRow.lecture_id.in_(lecture_ids)
        )
    )
    return {(m, lecture): c for m, lecture, c in rows}
