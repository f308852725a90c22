"""Each enrolled member's completion of a course, derived from the records (never stored).

Reads progress (coverage), group screenings, quiz attempts (the counted attempt, passed or not) and essay
grades, and applies the course's rule with ``core.completion.evaluate``; the status comes from
``core.course.derive_status``. One pass per course, not per member, so a province-sized scope stays cheap.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from diemcau.adapters.db import quizzes as quiz_store
from diemcau.adapters.db.models import CourseRow, LectureRow, MemberRow, OrgUnitRow
from diemcau.adapters.db.models_progress import LectureProgressRow, ScreeningAttendanceRow, ScreeningRow
from diemcau.adapters.db.orgs import to_org_unit
from diemcau.core.completion import DEFAULT_PASSING_ESSAY_GRADES, Completion, MemberRecords, evaluate
from diemcau.core.course import CompletionRule, CourseStatus, derive_status
from diemcau.core.orgtree import OrgUnit
from diemcau.core.quiz_rules import AttemptScore, counted_attempt, has_passed

READY = "ready"


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


def _enrolled(session: Session, course: CourseRow, scopes: list[str]) -> list[MemberRow]:
    audience = [OrgUnitRow.path.startswith(u.path, autoescape=True) for u in course.audience]
    within = [OrgUnitRow.path.startswith(p, autoescape=True) for p in scopes]
    if not audience or not within:
        return []
    query = (
        select(MemberRow).join(MemberRow.org_unit).where(MemberRow.active.is_(True), or_(*audience), or_(*within))
        .options(selectinload(MemberRow.org_unit)).order_by(OrgUnitRow.path, MemberRow.full_name)
    )  # fmt: skip
    return list(session.scalars(query))


def _coverage(session: Session, cards: list[str], lectures: list[str]) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = defaultdict(dict)
    query = select(LectureProgressRow).where(
        LectureProgressRow.member.in_(cards), LectureProgressRow.lecture_id.in_(lectures)
    )
    for row in session.scalars(query):
        found[row.member][row.lecture_id] = row.coverage_percent
    return found


def _screened(session: Session, cards: list[str], lectures: list[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    query = (
        select(ScreeningAttendanceRow.member, ScreeningRow.lecture_id)
        .join(ScreeningRow, ScreeningRow.id == ScreeningAttendanceRow.screening_id)
        .where(ScreeningAttendanceRow.member.in_(cards), ScreeningRow.lecture_id.in_(lectures))
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
) -> tuple[tuple[str, ...], bool, dict[str, _QuizStanding]]:
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
    return tuple(f.quiz_id for f in forms), any(f.has_essay for f in forms), standings


def _best_grade(grades: list[str]) -> str | None:
    ranked = [g for g in DEFAULT_PASSING_ESSAY_GRADES if g in grades]
    return ranked[0] if ranked else (grades[-1] if grades else None)


def course_completion(
    factory: sessionmaker[Session], course_id: str, scopes: list[str], today: dt.date
) -> CourseCompletion | None:
    """Completion of every active enrolled member within ``scopes`` (org paths); ``None`` for no such course."""
    with factory() as session:
        course = session.get(CourseRow, course_id, options=[selectinload(CourseRow.audience)])
        if course is None:
            return None
        rule = CompletionRule(**course.completion_rule) if course.completion_rule else CompletionRule()
        lectures = [lecture.id for lecture in course.lectures if lecture.status == READY]
        members = _enrolled(session, course, scopes)
        cards = [m.card_number.lower() for m in members]
        coverage, screened = _coverage(session, cards, lectures), _screened(session, cards, lectures)
        title, deadline = course.title, course.deadline
    quizzes, has_essay, standings = _quiz_standings(factory, course_id, scopes)
    # A condition the course offers no way to meet (no quiz released, no essay question) is not required.
    rule = CompletionRule(rule.min_watched_percent, rule.screening_counts, rule.quizzes_passed and bool(quizzes),
                          rule.essay_required and has_essay)  # fmt: skip
    results = []
    for member in members:
        card = member.card_number.lower()
        standing = standings.get(card) or _QuizStanding(set(), set(), {})
        records = MemberRecords(coverage.get(card, {}), frozenset(screened.get(card, set())),
                                frozenset(standing.passed), frozenset(standing.attempted), standing.essay,
                                standing.essay_submitted)  # fmt: skip
        verdict = evaluate(rule, tuple(lectures), quizzes, records)
        status = derive_status(today, deadline, verdict.started, verdict.completed)
        results.append(MemberCompletion(card, member.full_name, to_org_unit(member.org_unit), status, verdict,
                                        dict(records.coverage), records.screened, dict(standing.scores),
                                        standing.essay))  # fmt: skip
    return CourseCompletion(course_id, title, deadline, tuple(lectures), quizzes, tuple(results))
