"""Reads (and one best-effort write) behind the staff dashboards: watching over time, viewers' intervals of a
lecture, and the search terms that found a lecture.

Each read selects only the columns it needs, in one query per table, so a province stays cheap.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import CourseRow, MemberRow, OrgUnitRow
from diemcau.adapters.db.models_dashboards import SearchTermCountRow
from diemcau.adapters.db.models_progress import LectureProgressRow, ScreeningAttendanceRow, ScreeningRow
from diemcau.core.completion_tree import met_on
from diemcau.core.course import CompletionRule
from diemcau.core.visibility import is_published

log = logging.getLogger(__name__)
TERM_LENGTH = 100
# Timestamps are stored in UTC; the days a committee reads are Vietnamese calendar days (UTC+7, no DST).
VIETNAM_OFFSET = dt.timedelta(hours=7)


@dataclass(frozen=True)
class WatchingDays:
    """For one course and scope: each enrolled member's day of having watched every lecture (or ``None``)."""

    course_id: str
    deadline: dt.date | None
    created: dt.date
    lectures: tuple[str, ...]
    days: tuple[dt.date | None, ...]


def _enrolled_cards(session: Session, course: CourseRow, scopes: list[str]) -> list[str]:
    audience = [OrgUnitRow.path.startswith(u.path, autoescape=True) for u in course.audience]
    within = [OrgUnitRow.path.startswith(p, autoescape=True) for p in scopes]
    if not audience or not within:
        return []
    query = (
        select(MemberRow.card_number)
        .join(MemberRow.org_unit)
        .where(MemberRow.active.is_(True), or_(*audience), or_(*within))
    )
    return [card.lower() for card in session.scalars(query)]


def _vietnam_day(moment: dt.datetime) -> dt.date:
    return (moment + VIETNAM_OFFSET).date()


def _lecture_days(
    session: Session, rule: CompletionRule, lectures: list[str], cards: set[str]
) -> dict[str, dict[str, dt.date]]:
    days: dict[str, dict[str, dt.date]] = defaultdict(dict)
    watched = select(LectureProgressRow.member, LectureProgressRow.lecture_id, LectureProgressRow.updated_at).where(
        LectureProgressRow.lecture_id.in_(lectures), LectureProgressRow.coverage_percent >= rule.min_watched_percent
    )
    for member, lecture, updated in session.execute(watched):
        if member in cards:
            days[member][lecture] = _vietnam_day(updated)
    if rule.screening_counts:
        screened = (
            select(ScreeningAttendanceRow.member, ScreeningRow.lecture_id, ScreeningRow.held_on)
            .join(ScreeningRow, ScreeningRow.id == ScreeningAttendanceRow.screening_id)
            .where(ScreeningRow.lecture_id.in_(lectures))
        )
        for member, lecture, held_on in session.execute(screened):
            if member in cards:
                known = days[member].get(lecture)
                days[member][lecture] = held_on if known is None else min(known, held_on)
    return days


def watching_days(factory: sessionmaker[Session], course_id: str, scopes: list[str]) -> WatchingDays | None:
    """The day each enrolled member within ``scopes`` met the watching condition on every ready lecture.

    A lecture counts from the member's last progress update once their coverage reaches the course's threshold
    (rewatching after finishing moves that day later), or from the day of a group screening they attended.
    ``None`` for no such course.
    """
    with factory() as session:
        course = session.get(CourseRow, course_id, options=[selectinload(CourseRow.audience)])
        if course is None:
            return None
        rule = CompletionRule(**course.completion_rule) if course.completion_rule else CompletionRule()
        lectures = [lecture.id for lecture in course.lectures if is_published(lecture.status)]
        cards = _enrolled_cards(session, course, scopes)
        days = _lecture_days(session, rule, lectures, set(cards)) if lectures else {}
        created = _vietnam_day(course.created_at) if course.created_at else dt.date.today()
        met = tuple(met_on(days.get(card, {}), lectures) for card in cards)
        return WatchingDays(course.id, course.deadline, created, tuple(lectures), met)


def viewer_intervals(factory: sessionmaker[Session], lecture_id: str) -> Iterator[list[list[float]]]:
    """The merged watched intervals of each member who watched some of the lecture (one list per viewer)."""
    with factory() as session:
        query = select(LectureProgressRow.intervals).where(
            LectureProgressRow.lecture_id == lecture_id, LectureProgressRow.watched_seconds > 0
        )
        yield from session.scalars(query.execution_options(yield_per=2000))


def normalise_term(query: str) -> str:
    """A search as counted: lowercased, spaces collapsed, cut to the column's length ('' for an empty query)."""
    return " ".join(query.lower().split())[:TERM_LENGTH]


def record_search_terms(factory: sessionmaker[Session], query: str, lecture_ids: Iterable[str]) -> None:
    """Count ``query`` once for each distinct lecture among its hits. Best effort: a failure is logged, never
    raised, because counting must not break a member's search."""
    term, lectures = normalise_term(query), sorted(set(lecture_ids))
    if not term or not lectures:
        return
    try:
        _count(factory, term, lectures)
    except IntegrityError:  # a concurrent search inserted the same row first: count again on top of it
        try:
            _count(factory, term, lectures)
        except SQLAlchemyError:
            log.warning("search terms: could not count %r", term, exc_info=True)
    except SQLAlchemyError:
        log.warning("search terms: could not count %r", term, exc_info=True)


def _count(factory: sessionmaker[Session], term: str, lectures: list[str]) -> None:
    with transaction(factory) as session:
        for lecture in lectures:
            bumped = session.execute(
                update(SearchTermCountRow)
                .where(SearchTermCountRow.term == term, SearchTermCountRow.lecture_id == lecture)
                .values(count=SearchTermCountRow.count + 1)
            )
            if bumped.rowcount == 0:
                session.add(SearchTermCountRow(term=term, lecture_id=lecture, count=1))
                session.flush()


def top_search_terms(factory: sessionmaker[Session], lecture_id: str, limit: int = 10) -> list[tuple[str, int]]:
    """The terms whose searches most often found this lecture, most frequent first."""
    with factory() as session:
        query = (
            select(SearchTermCountRow.term, SearchTermCountRow.count)
            .where(SearchTermCountRow.lecture_id == lecture_id)
            .order_by(SearchTermCountRow.count.desc(), SearchTermCountRow.term)
            .limit(limit)
        )
        return [(term, count) for term, count in session.execute(query)]
