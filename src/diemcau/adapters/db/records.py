"""The database reads and writes behind the API, returning core dataclasses rather than ORM rows.

Scoping to a viewer's subtree happens in SQL with path-prefix matches (see ``core.orgtree``) so a
committee's list stays fast on a province of 200,000 members; the per-record rule is still checked with the
pure functions of ``core.roles`` by the routes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from diemcau.adapters.db.accounts import find_member
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import CourseRow, MemberRow, OrgUnitRow
from diemcau.core.course import Course
from diemcau.core.orgtree import OrgUnit
from diemcau.core.roles import Role, Viewer, roles_held


class RecordError(Exception):
    """A write that cannot proceed; ``code`` is a message catalogue key under ``api.``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class MemberRecord:
    """A member as the API shows them: identity, unit, account state and roles."""

    card: str
    full_name: str
    unit: OrgUnit
    active: bool
    activated: bool
    locked_until: dt.datetime | None
    roles: tuple[Role, ...]
    activation_expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class CourseRecord:
    """A course with its audience resolved to org unit paths."""

    course: Course
    audience_paths: tuple[str, ...]


def _unit(row: OrgUnitRow) -> OrgUnit:
    return OrgUnit(row.code, row.name, row.kind, row.path)


def member_record(row: MemberRow) -> MemberRecord:
    """The API's view of a member row (grants and org unit loaded)."""
    roles = roles_held(Role(g.role) for g in row.grants)
    return MemberRecord(
        row.card_number.lower(),
        row.full_name,
        _unit(row.org_unit),
        row.active,
        row.password_hash is not None,
        row.locked_until,
        roles,
        row.activation_expires_at,
    )


def _course(row: CourseRow) -> CourseRecord:
    audience = sorted(row.audience, key=lambda unit: unit.path)
    course = Course(row.id, row.title, tuple(row.resolutions or ()), tuple(u.code for u in audience), row.deadline)
    return CourseRecord(course, tuple(u.path for u in audience))


def _within_any(scopes: list[str]):  # type: ignore[no-untyped-def]
    return or_(false(), *(OrgUnitRow.path.startswith(scope, autoescape=True) for scope in scopes))


def load_member(factory: sessionmaker[Session], username: str) -> MemberRecord | None:
    """The member with this card number (hub username), or ``None``."""
    with factory() as session:
        row = find_member(session, username)
        return None if row is None else member_record(row)


def load_org_units(factory: sessionmaker[Session], scopes: list[str] | None) -> list[OrgUnit]:
    """Org units in any of the ``scopes`` subtrees (``None``: all), ordered by path."""
    query = select(OrgUnitRow).order_by(OrgUnitRow.path)
    if scopes is not None:
        query = query.where(_within_any(scopes))
    with factory() as session:
        return [_unit(row) for row in session.scalars(query)]


def load_org_unit(factory: sessionmaker[Session], code: str) -> OrgUnit | None:
    """The org unit with this code, or ``None``."""
    with factory() as session:
        row = session.scalars(select(OrgUnitRow).where(OrgUnitRow.code == code)).first()
        return None if row is None else _unit(row)


def load_members(
    factory: sessionmaker[Session], viewer: Viewer, within: str | None, limit: int, offset: int
) -> list[MemberRecord]:
    """Members the viewer may read (themself and their oversight subtrees), optionally within one subtree."""
    query = (
        select(MemberRow)
        .join(MemberRow.org_unit)
        .where(or_(func.lower(MemberRow.card_number) == viewer.username, _within_any(viewer.oversight_paths())))
        .options(selectinload(MemberRow.org_unit), selectinload(MemberRow.grants))
        .order_by(OrgUnitRow.path, MemberRow.card_number)
        .limit(limit)
        .offset(offset)
    )
    if within is not None:
        query = query.where(OrgUnitRow.path.startswith(within, autoescape=True))
    with factory() as session:
        return [member_record(row) for row in session.scalars(query)]


def load_courses(factory: sessionmaker[Session]) -> list[CourseRecord]:
    """Every course with its audience, soonest deadline first (a course per resolution: tens, not thousands)."""
    query = select(CourseRow).options(selectinload(CourseRow.audience))
    with factory() as session:
        records = [_course(row) for row in session.scalars(query)]
    return sorted(records, key=lambda r: (r.course.deadline or dt.date.max, r.course.id))


def load_course(factory: sessionmaker[Session], course_id: str) -> CourseRecord | None:
    """One course with its audience, or ``None``."""
    with factory() as session:
        row = session.get(CourseRow, course_id, options=[selectinload(CourseRow.audience)])
        return None if row is None else _course(row)


def create_course(factory: sessionmaker[Session], course: Course) -> CourseRecord:
    """Store a new course; raises ``RecordError`` for a taken id or an unknown audience unit."""
    with transaction(factory) as session:
        if session.get(CourseRow, course.id) is not None:
            raise RecordError("course_exists")
        units = list(session.scalars(select(OrgUnitRow).where(OrgUnitRow.code.in_(course.audience))))
        if len(units) != len(set(course.audience)):
            raise RecordError("unknown_audience")
        row = CourseRow(
            id=course.id,
            title=course.title,
            resolutions=list(course.resolutions),
            deadline=course.deadline,
            completion_rule={},
            audience=units,
        )
        session.add(row)
        session.flush()
        return _course(row)
