"""The facts the visibility rule (``core.visibility``) decides on, in small indexed reads.

* ``load_courses`` — every course's id, title and audience paths, in one query (a course per resolution: tens);
* ``load_lecture`` — one lecture's course, status and duration and that course's audience paths. A publish
  still being fetched or probed has no lecture row yet: its ingest run stands in (``processing``, or ``failed``),
  so content managers can follow it while members are refused like for a lecture that does not exist.

The API keeps these in its one visibility cache (``apps.api.plumbing.visibility``); nothing here caches.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.models import CourseAudienceRow, CourseRow, LectureRow, OrgUnitRow
from diemcau.adapters.db.models_media import IngestRunRow
from diemcau.core.lecture import LectureStatus
from diemcau.core.visibility import CourseFacts, LectureFacts


def load_courses(factory: sessionmaker[Session], course_ids: Iterable[str] | None = None) -> dict[str, CourseFacts]:
    """Per course id (all, or those of ``course_ids``), the course's facts, audience paths sorted."""
    query = (
        select(CourseRow.id, CourseRow.title, OrgUnitRow.path)
        .outerjoin(CourseAudienceRow, CourseAudienceRow.course_id == CourseRow.id)
        .outerjoin(OrgUnitRow, OrgUnitRow.id == CourseAudienceRow.org_unit_id)
        .order_by(CourseRow.id, OrgUnitRow.path)
    )
    if course_ids is not None:
        query = query.where(CourseRow.id.in_(list(course_ids)))
    titles: dict[str, str] = {}
    paths: dict[str, list[str]] = {}
    with factory() as session:
        for course_id, title, path in session.execute(query):
            titles[course_id] = title
            paths.setdefault(course_id, []).extend([path] if path is not None else [])
    return {c: CourseFacts(c, titles[c], tuple(paths[c])) for c in titles}


def _audience(session: Session, course_id: str) -> tuple[str, ...]:
    return tuple(
        session.scalars(
            select(OrgUnitRow.path)
            .join(CourseAudienceRow, CourseAudienceRow.org_unit_id == OrgUnitRow.id)
            .where(CourseAudienceRow.course_id == course_id)
            .order_by(OrgUnitRow.path)
        )
    )


def load_lecture(factory: sessionmaker[Session], lecture_id: str) -> LectureFacts | None:
    """The facts of one lecture (or of a publish without a lecture row yet), or ``None`` when there is neither."""
    with factory() as session:
        columns = select(LectureRow.course_id, LectureRow.status, LectureRow.duration_seconds)
        found = session.execute(columns.where(LectureRow.id == lecture_id)).first()
        if found is not None:
            course_id, status, duration = found.course_id, found.status, found.duration_seconds
        else:
            runs = select(IngestRunRow.course_id, IngestRunRow.status).where(IngestRunRow.lecture_id == lecture_id)
            run = session.execute(runs).first()
            if run is None:
                return None
            status = LectureStatus.FAILED if run.status == "failed" else LectureStatus.PROCESSING
            course_id, status, duration = run.course_id, str(status), None
        return LectureFacts(lecture_id, course_id, status, duration, _audience(session, course_id))
