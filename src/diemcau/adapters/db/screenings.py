"""Recording a group screening: who of a secretary's cell attended, each counted toward their completion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import CourseRow, LectureRow, MemberRow
from diemcau.adapters.db.models_progress import ScreeningAttendanceRow, ScreeningRow
from diemcau.core.course import is_enrolled
from diemcau.core.roles import Viewer, can_manage_member


class ScreeningRefused(Exception):
    """Why a screening was not recorded; ``code`` is a key under ``completion.``, ``status`` the HTTP status."""

    def __init__(self, code: str, status: int, **params: object) -> None:
        super().__init__(code)
        self.code, self.status, self.params = code, status, params


def _members(session: Session, cards: Sequence[str]) -> list[MemberRow]:
    wanted = sorted({c.strip().lower() for c in cards if c.strip()})
    query = (
        select(MemberRow).where(func.lower(MemberRow.card_number).in_(wanted)).options(selectinload(MemberRow.org_unit))
    )
    found = list(session.scalars(query))
    missing = set(wanted) - {m.card_number.lower() for m in found}
    if missing:
        raise ScreeningRefused("screening_members_outside", 422, cards=", ".join(sorted(missing)))
    return found


def record_screening(
    factory: sessionmaker[Session], viewer: Viewer, lecture_id: str, held_on: dt.date, place: str, cards: Sequence[str]
) -> tuple[int, list[str]]:
    """Store the screening and its attendance in one transaction; every member must be manageable by the
    viewer (their cell) and enrolled in the lecture's course, else nothing is stored."""
    if not any(c.strip() for c in cards):
        raise ScreeningRefused("screening_empty", 422)
    with transaction(factory) as session:
        lecture = session.get(LectureRow, lecture_id)
        course = (
            session.get(CourseRow, lecture.course_id, options=[selectinload(CourseRow.audience)]) if lecture else None
        )
        if lecture is None or course is None:
            raise ScreeningRefused("lecture_not_found", 404)
        members = _members(session, cards)
        audience = [u.path for u in course.audience]
        outside = [
            m.card_number.lower()
            for m in members
            if not (can_manage_member(viewer, m.org_unit.path) and is_enrolled(m.org_unit.path, audience))
        ]
        if outside:
            raise ScreeningRefused("screening_members_outside", 403, cards=", ".join(sorted(outside)))
        unit_id = members[0].org_unit_id
        screening = ScreeningRow(
            lecture_id=lecture_id, org_unit_id=unit_id, held_on=held_on, place=place, recorded_by=viewer.username
        )
        session.add(screening)
        session.flush()
        attended = sorted({m.card_number.lower() for m in members})
        session.add_all(ScreeningAttendanceRow(screening_id=screening.id, member=card) for card in attended)
        return screening.id, attended
