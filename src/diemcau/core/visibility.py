"""Who may see which course and watch which lecture: the one visibility rule, pure.

* A **course** is visible to whoever ``core.roles.can_see_course`` admits for its audience: members the courses
  whose audience covers their unit, secretaries and committees also those overlapping their scope, trainers and
  admins every course.
* A **lecture** is watched, read (transcript, captions, materials, questions) and searched by whoever sees its
  course, once it is published (``ready``); content managers (trainers, admins) also see it while it is still
  processing or after it failed, to follow and fix it. Correcting it is for content managers only.
* **Search** indexes published lectures only and returns hits in the viewer's visible courses (every course for
  content managers, ``None``: no filter).

The facts come from ``adapters.db.visibility`` through the API's one cache (``apps.api.plumbing.visibility``), so the
same answer holds on every route, page, media request and search, for at most ``perf.lecture_seconds``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from diemcau.core.lecture import LectureStatus
from diemcau.core.roles import Viewer, can_manage_content, can_see_course


@dataclass(frozen=True)
class CourseFacts:
    """What deciding about a course needs: its id, title and audience (org unit paths)."""

    course_id: str
    title: str
    audience_paths: tuple[str, ...]


@dataclass(frozen=True)
class LectureFacts:
    """What deciding about a lecture needs: its course, status and duration, and that course's audience."""

    lecture_id: str
    course_id: str
    status: str
    duration_seconds: float | None
    audience_paths: tuple[str, ...]


def is_published(status: str) -> bool:
    """Is a lecture in this status shown to members and searchable? Only ``ready``: ``LectureStatus`` has no
    other published state."""
    return status == LectureStatus.READY


def may_see_course(viewer: Viewer, course: CourseFacts) -> bool:
    """May ``viewer`` see this course (and so its quizzes)?"""
    return can_see_course(viewer, list(course.audience_paths))


def may_watch(viewer: Viewer, status: str, audience_paths: Sequence[str]) -> bool:
    """May ``viewer`` watch a lecture in ``status`` of a course with this audience (and read its transcript,
    materials and questions)? Its course visible, and published unless they manage content. Correcting a
    transcript is ``may_watch`` and ``core.roles.can_manage_content``."""
    published = is_published(status) or can_manage_content(viewer)
    return published and can_see_course(viewer, list(audience_paths))


def visible_course_ids(viewer: Viewer, courses: Mapping[str, CourseFacts]) -> frozenset[str]:
    """The ids of the courses ``viewer`` may see, among ``courses`` (by id)."""
    return frozenset(course_id for course_id, course in courses.items() if may_see_course(viewer, course))


def search_scope(viewer: Viewer, courses: Mapping[str, CourseFacts]) -> frozenset[str] | None:
    """The courses whose lectures ``viewer`` may search; ``None`` (no filter) for content managers."""
    return None if can_manage_content(viewer) else visible_course_ids(viewer, courses)
