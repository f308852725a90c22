"""Recording player events and keeping each member's watched intervals merged, in one transaction.

Each member × lecture row also keeps the member's first contact with the lecture (``record_first_contact``:
the player page, the download), from which ``core.progress.Pace`` bounds how fast coverage may grow; what a
post claims beyond that bound is refused, logged and counted per lecture (``lecture_progress_refusals``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models_progress import LectureProgressRow, ProgressEventRow, ProgressRefusalRow
from diemcau.adapters.db.replays import add_replays
from diemcau.core.progress import Pace, Progress, ProgressEvent, summarise_paced, unique_events
from diemcau.core.replays import replayed_spans, seconds_by_bucket

log = logging.getLogger(__name__)
MAX_EVENTS_PER_POST = 500
_PROGRESS = LectureProgressRow.__table__
_EVENTS = ProgressEventRow.__table__
_REFUSALS = ProgressRefusalRow.__table__
_FIELDS = ("intervals", "watched_seconds", "coverage_percent", "resume_position", "last_seq", "first_contact_at")
# Statements built once, run with parameters: building and cache-keying them per heartbeat cost more CPU than
# running them.
_KEY = (_PROGRESS.c.member == bindparam("m")) & (_PROGRESS.c.lecture_id == bindparam("l"))
# The batch's members × its lectures, a superset of its keys that the primary key serves on both backends (SQLite
# scans the whole table for a row-value ``(member, lecture_id) IN (VALUES …)``); the caller keeps its own keys.
_READ_ROWS = (
    select(_PROGRESS.c.member, _PROGRESS.c.lecture_id, *(_PROGRESS.c[f] for f in _FIELDS))
    .where(
        _PROGRESS.c.member.in_(bindparam("members", expanding=True)),
        _PROGRESS.c.lecture_id.in_(bindparam("lectures", expanding=True)),
    )
    .order_by(_PROGRESS.c.member, _PROGRESS.c.lecture_id)  # rows locked in one order by every writer
    .with_for_update()
)
_UPDATE_ROW = update(_PROGRESS).where(_KEY).values({f: bindparam(f"new_{f}") for f in _FIELDS})
_INSERT_ROW = insert(_PROGRESS)
_INSERT_EVENTS = {
    name: dialect_insert(_EVENTS)
    .on_conflict_do_nothing(index_elements=["member", "lecture_id", "event_id"])
    .returning(_EVENTS.c.member, _EVENTS.c.lecture_id, _EVENTS.c.event_id)
    for name, dialect_insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}


def _contact_upsert(dialect_insert):  # type: ignore[no-untyped-def]
    """A row holding only the first contact, or the contact set on a row that has none."""
    statement = dialect_insert(_PROGRESS)
    return statement.on_conflict_do_update(
        index_elements=[_PROGRESS.c.member, _PROGRESS.c.lecture_id],
        set_={"first_contact_at": statement.excluded.first_contact_at},
        where=_PROGRESS.c.first_contact_at.is_(None),
    )


def _refusals_upsert(dialect_insert):  # type: ignore[no-untyped-def]
    statement = dialect_insert(_REFUSALS)
    return statement.on_conflict_do_update(
        index_elements=[_REFUSALS.c.lecture_id],
        set_={
            "refused_seconds": _REFUSALS.c.refused_seconds + statement.excluded.refused_seconds,
            "refused_posts": _REFUSALS.c.refused_posts + statement.excluded.refused_posts,
        },
    )


_SET_CONTACT = {"sqlite": _contact_upsert(sqlite.insert), "postgresql": _contact_upsert(postgresql.insert)}
_ADD_REFUSALS = {"sqlite": _refusals_upsert(sqlite.insert), "postgresql": _refusals_upsert(postgresql.insert)}

Key = tuple[str, str]  # (member, lecture id)
_NOTHING = Progress((), 0.0, 0.0, 0.0)


def utc_naive(moment: dt.datetime) -> dt.datetime:
    """``moment`` as the naive UTC the ``DateTime`` columns hold (an aware time converted, a naive one kept)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


@dataclass(frozen=True)
class EventsPost:
    """One request's events: a member's player events on one lecture of ``duration`` seconds.

    ``pace`` bounds the coverage the events may add by the time from the member's first contact to
    ``received_at`` (the API always sets both); ``None``, for the trusted callers (seeding, benchmarks,
    tests of merging), counts everything. ``received_at`` is also the first contact where none is recorded."""

    member: str
    lecture_id: str
    duration: float
    events: Sequence[ProgressEvent]
    received_at: dt.datetime | None = None
    pace: Pace | None = None

    @property
    def key(self) -> Key:
        return self.member, self.lecture_id


@dataclass
class _Summary:
    """A member's stored progress on a lecture, as the batch changes it (``exists``: the row is in the table)."""

    progress: Progress
    last_seq: int
    exists: bool
    first_contact: dt.datetime | None = None
    changed: bool = False


def _summary_of(row: Any) -> _Summary:  # a LectureProgressRow, or a Core row of ``_READ_ROWS``
    intervals = tuple((a, b) for a, b in row.intervals)
    progress = Progress(intervals, row.watched_seconds, row.coverage_percent, row.resume_position)
    return _Summary(
        progress, row.last_seq if row.last_seq is not None else -1, exists=True, first_contact=row.first_contact_at
    )


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
                rows.append(
                    {
                        "member": post.member,
                        "lecture_id": post.lecture_id,
                        "event_id": e.event_id,
                        "kind": str(e.kind),
                        "start": e.start,
                        "end": e.end,
                        "seq": e.seq,
                    }
                )
        mine.append(own)
    if not rows:
        return mine
    # Core with a list of rows: sent as multi-row INSERTs (SQLAlchemy's "insertmanyvalues").
    stored = set(map(tuple, session.execute(_INSERT_EVENTS[session.get_bind().dialect.name], rows)))
    return [
        [e for e in own if (post.member, post.lecture_id, e.event_id) in stored]
        for post, own in zip(posts, mine, strict=True)
    ]


def _allowance(summary: _Summary, post: EventsPost) -> float:
    """The watched seconds the post may bring the member to (``Pace.allowance``); dates a first contact."""
    received = utc_naive(post.received_at or dt.datetime.now(dt.UTC))
    if summary.first_contact is None:  # nothing recorded: this post is the first contact
        summary.first_contact, summary.changed = received, True
    return post.pace.allowance(summary.first_contact, received) if post.pace else float("inf")


def _merge(
    summary: _Summary,
    fresh: list[ProgressEvent],
    post: EventsPost,
    replays: dict[tuple[str, int], float],
    refusals: dict[str, tuple[float, int]],
) -> None:
    """Merge newly stored events into ``summary`` within the post's allowance; add the stretches they replayed
    to ``replays`` and what was refused to ``refusals`` (seconds and posts, by lecture id)."""
    prior, duration, lecture_id = summary.progress.intervals, post.duration, post.lecture_id
    allowance = _allowance(summary, post)
    merged, refused = summarise_paced(fresh, duration, prior, allowance)
    if refused:
        log.warning(
            "progress: member %s, lecture %s: refused %.1f s claimed faster than real time allows "
            "(allowance %.1f s since first contact %s)",
            post.member,
            lecture_id,
            refused,
            allowance,
            summary.first_contact,
        )
        seconds, posts = refusals.get(lecture_id, (0.0, 0))
        refusals[lecture_id] = (round(seconds + refused, 3), posts + 1)
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
    return dict(
        zip(
            _FIELDS,
            (
                [list(i) for i in p.intervals],
                p.watched_seconds,
                p.coverage_percent,
                p.resume_position,
                summary.last_seq,
                summary.first_contact,
            ),
            strict=True,
        )
    )


def _add_refusals(session: Session, refusals: dict[str, tuple[float, int]]) -> None:
    """Add refused seconds and posts to each lecture's counter: one statement, a row per lecture."""
    if refusals:
        rows = [
            {"lecture_id": lecture, "refused_seconds": seconds, "refused_posts": posts}
            for lecture, (seconds, posts) in sorted(refusals.items())
        ]
        session.execute(_ADD_REFUSALS[session.get_bind().dialect.name], rows)


def record_events(
    factory: sessionmaker[Session], member: str, lecture_id: str, duration: float, events: Sequence[ProgressEvent]
) -> Progress:
    """Store events not seen before and merge them into the member's progress; replays change nothing.
    Unbounded by pace: for trusted callers (seeding, benchmarks); the API records an ``EventsPost``."""
    return record_post(factory, EventsPost(member, lecture_id, duration, events))


def record_post(factory: sessionmaker[Session], post: EventsPost) -> Progress:
    """Record one post in its own transaction (``record_posts_in`` for one); run once more after a unique-key
    conflict, which means another process inserted the member's row meanwhile (it is read the second time)."""
    try:
        with transaction(factory) as session:
            return record_posts_in(session, [post])[0]
    except IntegrityError:
        with transaction(factory) as session:
            return record_posts_in(session, [post])[0]


def record_posts_in(session: Session, posts: Sequence[EventsPost]) -> list[Progress]:
    """Record many requests' events inside the caller's transaction; returns each post's merged progress.

    The result, and what is stored, are those of recording the posts one after another in the given order
    (``group_commit.GroupWriter`` hands a whole batch of concurrent requests here), but in a fixed number of
    statements whatever the batch's size: read the summaries, insert the events, insert the new summaries,
    update the changed ones, add the replays, add the refusals (the last four only where there is something to
    write). Core statements, not the ORM unit of work: this runs for every
    heartbeat of every playing member."""
    keys = {post.key for post in posts}
    wanted = {"members": sorted({m for m, _ in keys}), "lectures": sorted({lecture for _, lecture in keys})}
    summaries = {
        key: _summary_of(row)
        for row in session.execute(_READ_ROWS, wanted)
        if (key := (row.member, row.lecture_id)) in keys
    }
    replays: dict[tuple[str, int], float] = {}
    refusals: dict[str, tuple[float, int]] = {}
    results = []
    for post, fresh in zip(posts, _insert_new(session, posts), strict=True):
        summary = summaries.setdefault(post.key, _Summary(_NOTHING, -1, exists=False))
        if fresh:
            _merge(summary, fresh, post, replays, refusals)
        results.append(summary.progress)
    new = [
        {"member": m, "lecture_id": lecture, **_values(s)}
        for (m, lecture), s in summaries.items()
        if s.changed and not s.exists
    ]
    if new:
        session.execute(_INSERT_ROW, new)
    changed = [
        {"m": m, "l": lecture, **{f"new_{f}": v for f, v in _values(s).items()}}
        for (m, lecture), s in summaries.items()
        if s.changed and s.exists
    ]
    if changed:  # the column's onupdate stamps updated_at (the dashboards' history reads it)
        session.execute(_UPDATE_ROW, changed)
    add_replays(session, replays)
    _add_refusals(session, refusals)
    return results


def record_first_contact(factory: sessionmaker[Session], member: str, lecture_id: str, at: dt.datetime) -> None:
    """Note ``at`` as the member's first contact with the lecture, unless one is recorded already.

    Called on every opening of the player and every download, so it reads first and writes only the first
    time (a read takes no write lock); two first contacts racing keep one (the upsert's condition)."""
    if load_first_contact(factory, member, lecture_id) is not None:
        return
    with transaction(factory) as session:
        row = {
            "member": member,
            "lecture_id": lecture_id,
            "intervals": [],
            "watched_seconds": 0.0,
            "coverage_percent": 0.0,
            "resume_position": 0.0,
            "last_seq": -1,
            "first_contact_at": utc_naive(at),
        }
        session.execute(_SET_CONTACT[session.get_bind().dialect.name], row)


def load_first_contact(factory: sessionmaker[Session], member: str, lecture_id: str) -> dt.datetime | None:
    """The member's recorded first contact with the lecture (naive UTC), if any."""
    with factory() as session:
        return session.scalar(
            select(_PROGRESS.c.first_contact_at).where(
                _PROGRESS.c.member == member, _PROGRESS.c.lecture_id == lecture_id
            )
        )


def load_refusals(factory: sessionmaker[Session], lecture_id: str) -> tuple[float, int]:
    """Refused watched seconds and the number of posts they came in, on one lecture."""
    with factory() as session:
        row = session.get(ProgressRefusalRow, lecture_id)
    return (row.refused_seconds, row.refused_posts) if row is not None else (0.0, 0)


def load_progress(factory: sessionmaker[Session], member: str, lecture_id: str) -> Progress:
    """The member's progress on one lecture (zero when nothing was watched)."""
    with factory() as session:
        row = session.get(LectureProgressRow, (member, lecture_id))
    return _NOTHING if row is None else _summary_of(row).progress


def coverage_by_lecture(
    session: Session, members: Sequence[str], lecture_ids: Sequence[str]
) -> dict[tuple[str, str], float]:
    """Coverage percent per (member, lecture) for dashboards and completion; a lecture only opened (a row with
    a first contact and no event yet, ``last_seq`` -1) is not listed: not watched yet."""
    rows = session.execute(
        select(LectureProgressRow.member, LectureProgressRow.lecture_id, LectureProgressRow.coverage_percent).where(
            LectureProgressRow.member.in_(members),
            LectureProgressRow.lecture_id.in_(lecture_ids),
            LectureProgressRow.last_seq >= 0,
        )
    )
    return {(m, lecture): c for m, lecture, c in rows}
