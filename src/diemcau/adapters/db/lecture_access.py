"""What deciding "may this viewer watch this lecture?" needs, in two small indexed reads.

The general lecture read (``lecture_reads.load_lecture``) also loads media and the job, and the API's old
visibility check loaded every course with its audience; a progress heartbeat needs only the lecture's
course, status and duration and that one course's audience paths.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.models import CourseAudienceRow, LectureRow, OrgUnitRow


@dataclass(frozen=True)
class LectureAccess:
    """A lecture's visibility facts: its course, status and duration, and the course's audience paths."""

    lecture_id: str
    course_id: str
    status: str
    duration_seconds: float | None
    audience_paths: tuple[str, ...]


def load_lecture_access(factory: sessionmaker[Session], lecture_id: str) -> LectureAccess | None:
    """The facts for one lecture, or ``None`` when it has no lecture row (unknown, or a publish under way)."""
    with factory() as session:
        columns = select(LectureRow.course_id, LectureRow.status, LectureRow.duration_seconds)
        found = session.execute(columns.where(LectureRow.id == lecture_id)).first()
        if found is None:
            return None
        paths = session.scalars(
            select(OrgUnitRow.path)
            .join(CourseAudienceRow, CourseAudienceRow.org_unit_id == OrgUnitRow.id)
            .where(CourseAudienceRow.course_id == found.course_id)
            .order_by(OrgUnitRow.path)
        )
        return LectureAccess(lecture_id, found.course_id, found.status, found.duration_seconds, tuple(paths))
