"""Release a quiz: spec file → nbgrader source notebook → ``generate_assignment`` → the form members see."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import quizzes as store
from diemcau.adapters.nbgrader.release import release_quiz
from diemcau.adapters.quiz_files import load_quiz_file, quiz_path
from diemcau.adapters.db.models import CourseRow
from diemcau.core.quiz_form import QuizForm
from diemcau.core.quiz_spec import QuizSpec
from diemcau.settings import Settings


class UnknownCourseError(LookupError):
    """The quiz's course is not in the database (load it with ``diemcau course sync`` first)."""


def release_spec(settings: Settings, factory: sessionmaker[Session], spec: QuizSpec) -> QuizForm:
    """Generate ``spec`` in its course's nbgrader directory, then record the release (idempotent)."""
    with factory() as session:
        known = session.get(CourseRow, spec.course_id) is not None
    if not known:
        raise UnknownCourseError(
            f"course {spec.course_id!r} is not loaded: create it or run `diemcau course sync`, then release again"
        )
    form = release_quiz(settings, spec)
    store.save_release(factory, form)
    return form


def release(
    settings: Settings, factory: sessionmaker[Session], course_id: str, quiz_id: str, courses_dir: Path | None = None
) -> QuizForm:
    """Release ``courses/<course_id>/quizzes/<quiz_id>.yaml`` (from ``courses_dir``, default the settings')."""
    spec = load_quiz_file(quiz_path(courses_dir or settings.courses_dir, course_id, quiz_id), course_id)
    return release_spec(settings, factory, spec)


def release_course_quizzes(settings: Settings, factory: sessionmaker[Session], courses_dir: Path) -> list[QuizForm]:
    """Release every quiz spec of every course folder under ``courses_dir`` whose course is loaded (idempotent).

    For ``diemcau init --demo`` (the demo course's quiz) and ``course sync``; a spec error stops before any
    quiz is released.
    """
    from diemcau.adapters.quiz_files import load_course_quizzes

    with factory() as session:
        known = {course_id for (course_id,) in session.query(CourseRow.id)}
    specs = [
        spec
        for folder in sorted(courses_dir.glob("*/"))
        if folder.name in known
        for spec in load_course_quizzes(courses_dir, folder.name)
    ]
    return [release_spec(settings, factory, spec) for spec in specs]
