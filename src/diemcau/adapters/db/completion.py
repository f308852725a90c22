"""Each enrolled member's completion of a course, derived from the records (never stored).

Reads progress (coverage), group screenings, quiz attempts (the counted attempt, passed or not) and essay
grades, and applies the course's rule with ``core.completion.evaluate``; the status comes from
``core.course.derive_status``. One pass per course, not per member, so a province-sized scope stays cheap.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from diemcau.adapters.db import quizzes as quiz_store
from diemcau.adapters.db.models import CourseRow, MemberRow, OrgUnitRow
from diemcau.adapters.db.models_progress import LectureProgressRow, ScreeningAttendanceRow, ScreeningRow
from diemcau.core.completion import DEFAULT_PASSING_ESSAY_GRADES, Completion, MemberRecords, evaluate
from diemcau.core.course import CompletionRule, CourseStatus, derive_status
from diemcau.core.orgtree import OrgUnit
from diemcau.core.quiz_form import QuizForm
from diemcau.core.quiz_rules import AttemptScore, counted_attempt, has_passed
from diemcau.core.visibility import is_published


@dataclass(frozen=True)
class MemberCompletion:
    """One member's standing: the verdict and what it rests on."""

    card_number: str
    full_name: str
    unit: OrgUnit
    status: CourseStatus
    completion: Completion
    coverage: dict[str, float]
    screened: frozenset[str]
    quiz_scores: dict[str, float | None]
    essay_grade: str | None


@dataclass(frozen=True)
class CourseCompletion:
    """A course's completion across the members within some scope."""

    course_id: str
    title: str
    deadline: dt.date | None
    lectures: tuple[str, ...]
    quizzes: tuple[str, ...]
    members: tuple[MemberCompletion, ...]
    titles: Mapping[str, str] = field(default_factory=dict)  # "lecture:<id>" / "quiz:<id>" -> its title


@dataclass(frozen=True)
class _Enrolled:
    card: str  # lowercase, as progress and quiz records name members
    full_name: str
    unit: OrgUnit


def _enrolment(course: CourseRow, scopes: list[str], member: str | None) -> list[ColumnElement[bool]] | None:
    """The WHERE clauses selecting the course's active members within ``scopes`` (``None``: nobody), or only
    ``member`` (a lowercase card number) among them."""
    audience = [OrgUnitRow.path.startswith(u.path, autoescape=True) for u in course.audience]
    within = [OrgUnitRow.path.startswith(p, autoescape=True) for p in scopes]
    if not audience or not within:
        return None
    where = [MemberRow.active.is_(True), or_(*audience), or_(*within)]
    if member is not None:
        where.append(func.lower(MemberRow.card_number) == member)  # served by ix_members_card_number_lower
    return where


def _enrolled(session: Session, where: list[ColumnElement[bool]]) -> list[_Enrolled]:
    """Card, name and unit only (no ORM rows): a province has 100,000 members and a few thousand units."""
    query = (
        select(
            MemberRow.card_number,
            MemberRow.full_name,
            OrgUnitRow.code,
            OrgUnitRow.name,
            OrgUnitRow.kind,
            OrgUnitRow.path,
        )
        .join(OrgUnitRow, OrgUnitRow.id == MemberRow.org_unit_id)
        .where(*where)
        .order_by(OrgUnitRow.path, MemberRow.full_name)
    )
    units: dict[str, OrgUnit] = {}
    found = []
    for card, name, code, unit_name, kind, path in session.execute(query):
        unit = units.get(path) or units.setdefault(path, OrgUnit(code=code, name=unit_name, kind=kind, path=path))
        found.append(_Enrolled(card.lower(), name, unit))
    return found


def _coverage(session: Session, where: list[ColumnElement[bool]], lectures: list[str]) -> dict[str, dict[str, float]]:
    """Coverage per member and lecture: three columns (never the watched-interval JSON), the members chosen
    by the same scope in SQL rather than by a list of 100,000 card numbers."""
    found: dict[str, dict[str, float]] = defaultdict(dict)
    member = func.lower(MemberRow.card_number)  # served by ix_members_card_number_lower
    query = (
        select(LectureProgressRow.member, LectureProgressRow.lecture_id, LectureProgressRow.coverage_percent)
        .join(MemberRow, member == LectureProgressRow.member)
        .join(OrgUnitRow, OrgUnitRow.id == MemberRow.org_unit_id)
        .where(LectureProgressRow.lecture_id.in_(lectures), *where)
    )
    for card, lecture, coverage in session.execute(query):
        found[card][lecture] = coverage
    return found


def _screened(session: Session, where: list[ColumnElement[bool]], lectures: list[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    query = (
        select(ScreeningAttendanceRow.member, ScreeningRow.lecture_id)
        .join(ScreeningRow, ScreeningRow.id == ScreeningAttendanceRow.screening_id)
        .join(MemberRow, func.lower(MemberRow.card_number) == ScreeningAttendanceRow.member)
        .join(OrgUnitRow, OrgUnitRow.id == MemberRow.org_unit_id)
        .where(ScreeningRow.lecture_id.in_(lectures), *where)
    )
    for member, lecture in session.execute(query):
        found[member].add(lecture)
    return found


@dataclass
class _QuizStanding:
    passed: set[str]
    attempted: set[str]
    scores: dict[str, float | None]
    essay: str | None = None
    essay_submitted: bool = False


def _quiz_standings(
    factory: sessionmaker[Session], course_id: str, scopes: list[str]
) -> tuple[tuple[QuizForm, ...], dict[str, _QuizStanding]]:
    forms = quiz_store.list_forms(factory, [course_id])
    standings: dict[str, _QuizStanding] = defaultdict(lambda: _QuizStanding(set(), set(), {}))
    for form in forms:
        attempts: dict[str, list] = defaultdict(list)
        for record in quiz_store.quiz_submissions(factory, course_id, form.quiz_id, within=scopes):
            attempts[record.member].append(record)
        for member, records in attempts.items():
            standing = standings[member]
            standing.attempted.add(form.quiz_id)
            graded = [AttemptScore(r.attempt, r.score or 0.0) for r in records if r.status == quiz_store.GRADED]
            counted = counted_attempt(form.rules.counts, graded)
            standing.scores[form.quiz_id] = None if counted is None else counted.score
            if counted is not None and has_passed(counted.score, form.total_points, form.rules.pass_percent):
                standing.passed.add(form.quiz_id)
            if form.has_essay:
                standing.essay_submitted = True
                grades = [r.essay_category for r in records if r.essay_category]
                standing.essay = _best_grade(grades) or standing.essay
    return tuple(forms), standings


def _best_grade(grades: list[str]) -> str | None:
    ranked = [g for g in DEFAULT_PASSING_ESSAY_GRADES if g in grades]
    return ranked[0] if ranked else (grades[-1] if grades else None)


def course_completion(
    factory: sessionmaker[Session], course_id: str, scopes: list[str], today: dt.date, member: str | None = None
) -> CourseCompletion | None:
    """Completion of every active enrolled member within ``scopes`` (org paths), or only of ``member`` (a card
    number) when given; ``None`` for no such course."""
    member = None if member is None else member.lower()
    with factory() as session:
        course = session.get(CourseRow, course_id, options=[selectinload(CourseRow.audience)])
        if course is None:
            return None
        rule = CompletionRule(**course.completion_rule) if course.completion_rule else CompletionRule()
        ready = [lecture for lecture in course.lectures if is_published(lecture.status)]
        lectures = [lecture.id for lecture in ready]
        titles = {f"lecture:{lecture.id}": lecture.title for lecture in ready}
        where = _enrolment(course, scopes, member)
        members = [] if where is None else _enrolled(session, where)
        found = where is not None and bool(lectures)
        coverage = _coverage(session, where, lectures) if found else {}
        screened = _screened(session, where, lectures) if found else {}
        title, deadline = course.title, course.deadline
    forms, standings = _quiz_standings(factory, course_id, scopes)
    quizzes, has_essay = tuple(f.quiz_id for f in forms), any(f.has_essay for f in forms)
    titles |= {f"quiz:{form.quiz_id}": form.title for form in forms}
    # A condition the course offers no way to meet (no quiz released, no essay question) is not required.
    rule = CompletionRule(
        rule.min_watched_percent,
        rule.screening_counts,
        rule.quizzes_passed and bool(quizzes),
        rule.essay_required and has_essay,
    )
    results = []
    for member in members:
        card = member.card
        standing = standings.get(card) or _QuizStanding(set(), set(), {})
        records = MemberRecords(
            coverage.get(card, {}),
            frozenset(screened.get(card, set())),
            frozenset(standing.passed),
            frozenset(standing.attempted),
            standing.essay,
            standing.essay_submitted,
        )
        verdict = evaluate(rule, tuple(lectures), quizzes, records)
        status = derive_status(today, deadline, verdict.started, verdict.completed)
        results.append(
            MemberCompletion(
                card,
                member.full_name,
                member.unit,
                status,
                verdict,
                dict(records.coverage),
                records.screened,
                dict(standing.scores),
                standing.essay,
            )
        )
    return CourseCompletion(course_id, title, deadline, tuple(lectures), quizzes, tuple(results), titles)


def member_status(
    factory: sessionmaker[Session], course_id: str, card: str, org_path: str, today: dt.date
) -> CourseStatus | None:
    """One member's own status in a course, by the same derivation as the dashboards (``None``: not enrolled)."""
    found = course_completion(factory, course_id, [org_path], today, member=card)
    if found is None or not found.members:
        return None
    return found.members[0].status
