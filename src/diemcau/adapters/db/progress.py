"""Recording player events and keeping each member's watched intervals merged, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
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
_READ_ROW = select(*(_PROGRESS.c[f] for f in _FIELDS)).where(_KEY).with_for_update()
_UPDATE_ROW = update(_PROGRESS).where(_KEY).values({f: bindparam(f"new_{f}") for f in _FIELDS})
_INSERT_ROW = insert(_PROGRESS)
_INSERT_EVENTS = {
    name: dialect_insert(_EVENTS).on_conflict_do_nothing(index_elements=["member", "lecture_id", "event_id"])
    .returning(_EVENTS.c.event_id)
    for name, dialect_insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}  # fmt: skip


def _insert_new(session: Session, member: str, lecture_id: str, events: Sequence[ProgressEvent]) -> list[ProgressEvent]:
    """Store the events not seen before in one ``INSERT … ON CONFLICT DO NOTHING … RETURNING``; returns them.

    The unique key (member, lecture, client event id) decides what is new, so two requests carrying the same
    offline queue cannot both count it, and known ids need no separate read."""
    unique = unique_events(events)
    if not unique:
        return []
    rows = [{"member": member, "lecture_id": lecture_id, "event_id": e.event_id, "kind": str(e.kind),
             "start": e.start, "end": e.end, "seq": e.seq} for e in unique]  # fmt: skip
    # Core with a list of rows: sent as one multi-row INSERT (SQLAlchemy's "insertmanyvalues").
    stored = set(session.execute(_INSERT_EVENTS[session.get_bind().dialect.name], rows).scalars())
    return [e for e in unique if e.event_id in stored]


def _as_progress(row: Any) -> Progress:  # a LectureProgressRow, or a Core row of its ``_SUMMARY`` columns
    if row is None:
        return Progress((), 0.0, 0.0, 0.0)
    intervals = tuple((a, b) for a, b in row.intervals)
    return Progress(intervals, row.watched_seconds, row.coverage_percent, row.resume_position)


def record_events(
    factory: sessionmaker[Session], member: str, lecture_id: str, duration: float, events: Sequence[ProgressEvent]
) -> Progress:
    """Store events not seen before and merge them into the member's progress; replays change nothing."""
    with transaction(factory) as session:
        return record_events_in(session, member, lecture_id, duration, events)


def record_events_in(
    session: Session, member: str, lecture_id: str, duration: float, events: Sequence[ProgressEvent]
) -> Progress:
    """``record_events`` inside the caller's transaction (``group_commit.GroupWriter`` shares one among requests).

    Core statements, not the ORM unit of work: this runs on every heartbeat of every playing member."""
    key = {"m": member, "l": lecture_id}
    row = session.execute(_READ_ROW, key).first()
    fresh = _insert_new(session, member, lecture_id, events)
    if not fresh:
        return _as_progress(row)
    prior = [tuple(i) for i in row.intervals] if row else []
    merged = summarise(fresh, duration, prior=prior)
    # Merging forgets stretches watched again; count them first (one UPSERT for the batch).
    add_replays(session, lecture_id, seconds_by_bucket(replayed_spans(fresh, duration, prior)))
    newest = max(fresh, key=lambda e: e.seq)
    last_seq = row.last_seq if row is not None and row.last_seq is not None else -1
    resume, seq = (merged.resume_position, newest.seq) if newest.seq >= last_seq else (row.resume_position, last_seq)
    values = dict(zip(_FIELDS, ([list(i) for i in merged.intervals], merged.watched_seconds, merged.coverage_percent,
                                resume, seq), strict=True))  # fmt: skip
    if row is None:
        session.execute(_INSERT_ROW, {"member": member, "lecture_id": lecture_id, **values})
    else:  # the column's onupdate stamps updated_at (the dashboards' history reads it)
        session.execute(_UPDATE_ROW, {**key, **{f"new_{f}": v for f, v in values.items()}})
    return Progress(tuple(merged.intervals), merged.watched_seconds, merged.coverage_percent, resume)


def load_progress(factory: sessionmaker[Session], member: str, lecture_id: str) -> Progress:
    """The member's progress on one lecture (zero when nothing was watched)."""
    with factory() as session:
        return _as_progress(session.get(LectureProgressRow, (member, lecture_id)))


def coverage_by_lecture(session: Session, members: Sequence[str], lecture_ids: Sequence[str]) -> dict[tuple[str, str], float]:
    """Coverage percent per (member, lecture) for dashboards and completion."""
    rows = session.execute(
        select(LectureProgressRow.member, LectureProgressRow.lecture_id, LectureProgressRow.coverage_percent).where(
            LectureProgressRow.member.in_(members), LectureProgressRow.lecture_id.in_(lecture_ids)
        )
    )
    return {(m, lecture): c for m, lecture, c in rows}
