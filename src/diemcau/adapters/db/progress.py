"""Recording player events and keeping each member's watched intervals merged, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models_progress import LectureProgressRow, ProgressEventRow
from diemcau.core.progress import Progress, ProgressEvent, summarise, unique_events

MAX_EVENTS_PER_POST = 500


def _new_events(session: Session, member: str, lecture_id: str, events: Sequence[ProgressEvent]) -> list[ProgressEvent]:
    ids = [e.event_id for e in events]
    known = set(
        session.scalars(
            select(ProgressEventRow.event_id).where(
                ProgressEventRow.member == member,
                ProgressEventRow.lecture_id == lecture_id,
                ProgressEventRow.event_id.in_(ids),
            )
        )
    )
    return [e for e in unique_events(events) if e.event_id not in known]


def _as_progress(row: LectureProgressRow | None) -> Progress:
    if row is None:
        return Progress((), 0.0, 0.0, 0.0)
    intervals = tuple((a, b) for a, b in row.intervals)
    return Progress(intervals, row.watched_seconds, row.coverage_percent, row.resume_position)


def record_events(
    factory: sessionmaker[Session], member: str, lecture_id: str, duration: float, events: Sequence[ProgressEvent]
) -> Progress:
    """Store events not seen before and merge them into the member's progress; replays change nothing."""
    with transaction(factory) as session:
        fresh = _new_events(session, member, lecture_id, events)
        row = session.get(LectureProgressRow, (member, lecture_id), with_for_update=True)
        if not fresh:
            return _as_progress(row)
        for e in fresh:
            session.add(ProgressEventRow(member=member, lecture_id=lecture_id, event_id=e.event_id,
                                         kind=str(e.kind), start=e.start, end=e.end, seq=e.seq))  # fmt: skip
        prior = [tuple(i) for i in row.intervals] if row else []
        merged = summarise(fresh, duration, prior=prior)
        if row is None:
            row = LectureProgressRow(member=member, lecture_id=lecture_id)
            session.add(row)
        newest = max(fresh, key=lambda e: e.seq)
        row.intervals = [list(i) for i in merged.intervals]
        row.watched_seconds, row.coverage_percent = merged.watched_seconds, merged.coverage_percent
        if newest.seq >= (row.last_seq if row.last_seq is not None else -1):
            row.resume_position, row.last_seq = merged.resume_position, newest.seq
        return _as_progress(row)


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
