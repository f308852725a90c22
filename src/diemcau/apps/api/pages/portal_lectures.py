"""The lectures the portal lists under each course: ready ones only, with how much the member has followed."""

from __future__ import annotations

from collections.abc import Iterable

from diemcau.adapters.db.lecture_reads import load_lectures
from diemcau.adapters.db.progress import coverage_by_lecture
from diemcau.apps.api.pages.environment import PortalLecture
from diemcau.apps.api.plumbing.context import ApiContext
from diemcau.core.visibility import is_published


def lectures_by_course(
    ctx: ApiContext, username: str, course_ids: Iterable[str]
) -> dict[str, tuple[PortalLecture, ...]]:
    """Per course id, its ready lectures in course order, each with the member's coverage (``None``: not
    watched yet). Lectures still processing are left out: members cannot play them."""
    ready = [r for r in load_lectures(ctx.factory, set(course_ids)) if is_published(r.status)]
    with ctx.factory() as session:
        coverage = coverage_by_lecture(session, [username], [r.id for r in ready]) if ready else {}
    listed: dict[str, list[PortalLecture]] = {}
    for record in ready:
        lecture = PortalLecture(record.id, record.title, record.duration_seconds, coverage.get((username, record.id)))
        listed.setdefault(record.course_id, []).append(lecture)
    return {course: tuple(lectures) for course, lectures in listed.items()}
