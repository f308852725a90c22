"""Courses, their completion rule, and enrollments derived from the audience."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum

from diemcau.core.orgtree import is_within

COURSE_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class CourseStatus(StrEnum):
    """A member's status in a course; always derived from records, never stored."""

    NOT_STARTED = "not_started"  # chưa bắt đầu
    IN_PROGRESS = "in_progress"  # đang học
    COMPLETED = "completed"  # hoàn thành
    OVERDUE = "overdue"  # quá hạn


@dataclass(frozen=True)
class CompletionRule:
    """What a member must do to complete a course (Moodle's vocabulary: viewed, graded, pass grade)."""

    min_watched_percent: float = 95.0
    screening_counts: bool = True
    quizzes_passed: bool = True
    essay_required: bool = True


@dataclass(frozen=True)
class Course:
    """A study programme for one or more resolutions, with a deadline and an audience."""

    id: str
    title: str
    resolutions: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()  # org unit codes
    deadline: dt.date | None = None
    completion_rule: CompletionRule = field(default_factory=CompletionRule)


def is_valid_course_id(course_id: str) -> bool:
    """Is this a usable course id (lowercase letters, digits, ``-``, ``_``)?"""
    return bool(COURSE_ID_PATTERN.match(course_id))


def is_enrolled(member_org_path: str, audience_paths: list[str]) -> bool:
    """A member is enrolled when their org unit lies in the subtree of any audience unit."""
    return any(is_within(member_org_path, path) for path in audience_paths)


def derive_status(today: dt.date, deadline: dt.date | None, started: bool, completed: bool) -> CourseStatus:
    """Derive a member's course status from what the records say they did."""
    if completed:
        return CourseStatus.COMPLETED
    if deadline is not None and today > deadline:
        return CourseStatus.OVERDUE
    return CourseStatus.IN_PROGRESS if started else CourseStatus.NOT_STARTED


def days_left(today: dt.date, deadline: dt.date | None) -> int | None:
    """Whole days until the deadline (negative once past), or ``None`` without one."""
    return None if deadline is None else (deadline - today).days
