"""Course routes: the courses a viewer may see, with their own deadline and status; trainers create them.

Enrollments are derived from each course's audience (``core.course.is_enrolled``), never stored. An enrolled
viewer's own status comes from the same derivation as the dashboards (``adapters.db.completion``): progress,
screenings, quiz and essay against the course's rule and deadline.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException

from diemcau.adapters.db import records
from diemcau.adapters.db.completion import member_status
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.schemas.common import CourseIn, CourseOut
from diemcau.core.course import Course, days_left, is_enrolled
from diemcau.core.roles import Viewer, can_manage_content
from diemcau.i18n import t

router = APIRouter(tags=["courses"])


def course_view(ctx: ApiContext, record: records.CourseRecord, viewer: Viewer, today: dt.date) -> CourseOut:
    """A course as ``viewer`` sees it on ``today``: with their own status when they are enrolled."""
    course = record.course
    enrolled = viewer.org_path is not None and is_enrolled(viewer.org_path, list(record.audience_paths))
    status = member_status(ctx.factory, course.id, viewer.username, viewer.org_path, today) if enrolled else None
    return CourseOut(
        id=course.id,
        title=course.title,
        resolutions=list(course.resolutions),
        audience=list(course.audience),
        deadline=course.deadline,
        days_left=days_left(today, course.deadline),
        enrolled=enrolled,
        status=None if status is None else str(status),
    )


def course_views(ctx: ApiContext, viewer: Viewer) -> list[CourseOut]:
    """The courses ``viewer`` may see (``ctx.visibility``), soonest deadline first."""
    today, visible = ctx.today(), ctx.visibility.courses(viewer)
    return [course_view(ctx, r, viewer, today) for r in records.load_courses(ctx.factory) if r.course.id in visible]


@router.get("/api/courses", response_model=list[CourseOut])
def list_courses(caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)) -> list[CourseOut]:
    """Members: the courses they must study. Secretaries, committees: also those of their units. Trainers: all."""
    return course_views(ctx, caller.viewer)


@router.get("/api/courses/{course_id}", response_model=CourseOut, responses={404: {"description": "Not visible."}})
def read_course(
    course_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> CourseOut:
    """One course; 404 alike for a missing course and one the viewer may not see."""
    ctx.visibility.require_course(caller.viewer, course_id)
    record = records.load_course(ctx.factory, course_id)
    if record is None:
        raise HTTPException(404, t("api.course_not_found"))
    return course_view(ctx, record, caller.viewer, ctx.today())


@router.post("/api/courses", response_model=CourseOut, status_code=201, responses={403: {}, 409: {}, 422: {}})
def create_course(
    body: CourseIn, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> CourseOut:
    """Create a course (trainers and admins)."""
    if not can_manage_content(caller.viewer):
        raise HTTPException(403, t("api.forbidden"))
    course = Course(body.id, body.title, tuple(body.resolutions), tuple(body.audience), body.deadline)
    try:
        record = records.create_course(ctx.factory, course)
    except records.RecordError as exc:
        raise HTTPException(409 if exc.code == "course_exists" else 422, t(f"api.{exc.code}")) from None
    ctx.visibility.forget()
    return course_view(ctx, record, caller.viewer, ctx.today())
