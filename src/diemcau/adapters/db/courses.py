"""Courses in the database: upsert from course files, list, and derived enrollments."""

from __future__ import annotations

import dataclasses

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from diemcau.adapters.db.models import CourseRow, MemberRow, OrgUnitRow
from diemcau.core.course import CompletionRule, Course


class UnknownAudienceError(Exception):
    """A course names audience org units that do not exist."""

    def __init__(self, course_id: str, codes: list[str]) -> None:
        super().__init__(
            f"course {course_id!r}: unknown audience org unit(s) {', '.join(codes)}; load the org tree first"
        )
        self.codes = codes


def upsert_course(session: Session, course: Course) -> CourseRow:
    """Create or update a course row from a ``Course`` (idempotent)."""
    units = session.scalars(select(OrgUnitRow).where(OrgUnitRow.code.in_(course.audience))).all()
    missing = sorted(set(course.audience) - {u.code for u in units})
    if missing:
        raise UnknownAudienceError(course.id, missing)
    row = session.get(CourseRow, course.id) or CourseRow(id=course.id)
    row.title = course.title
    row.resolutions = list(course.resolutions)
    row.deadline = course.deadline
    row.completion_rule = dataclasses.asdict(course.completion_rule)
    row.audience = list(units)
    session.add(row)
    return row


def course_of(row: CourseRow) -> Course:
    """The domain ``Course`` of a row (audience as codes)."""
    rule = CompletionRule(**row.completion_rule) if row.completion_rule else CompletionRule()
    audience = tuple(sorted(u.code for u in row.audience))
    return Course(row.id, row.title, tuple(row.resolutions or ()), audience, row.deadline, rule)


def list_courses(session: Session) -> list[CourseRow]:
    """All courses with their audience, by id."""
    return list(session.scalars(select(CourseRow).options(selectinload(CourseRow.audience)).order_by(CourseRow.id)))


def enrolled_members(session: Session, row: CourseRow) -> list[MemberRow]:
    """Active members whose unit lies under any audience unit: enrollments derived, never stored."""
    if not row.audience:
        return []
    in_audience = or_(*(OrgUnitRow.path.startswith(u.path, autoescape=True) for u in row.audience))
    query = (
        select(MemberRow)
        .join(MemberRow.org_unit)
        .where(MemberRow.active.is_(True), in_audience)
        .options(selectinload(MemberRow.org_unit))
        .order_by(MemberRow.card_number)
    )
    return list(session.scalars(query))
