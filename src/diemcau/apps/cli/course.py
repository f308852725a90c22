"""``diemcau course``: courses (study programmes) as files in the courses folder and rows in the database."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Optional

import typer

from diemcau.adapters import course_files
from diemcau.adapters.db.courses import UnknownAudienceError, course_of, list_courses, upsert_course
from diemcau.adapters.db.engine import transaction
from diemcau.apps import setup_steps
from diemcau.apps.cli.common import factory_or_exit, fail
from diemcau.core.course import Course, is_valid_course_id

app = typer.Typer(help="Courses (study programmes).", no_args_is_help=True)


@app.command("create")
def course_create(
    course_id: Annotated[str, typer.Argument(metavar="ID")],
    title: Annotated[str, typer.Option(help="Course title, shown to members.")],
    deadline: Annotated[Optional[str], typer.Option(help="YYYY-MM-DD")] = None,  # noqa: UP007 (typer)
    resolution: Annotated[Optional[list[str]], typer.Option(help="Resolution covered (repeatable).")] = None,  # noqa: UP007
    audience: Annotated[Optional[list[str]], typer.Option(help="Audience org unit code (repeatable).")] = None,  # noqa: UP007
) -> None:
    """Create a course: writes courses/ID/course.yaml and loads it."""
    settings, factory = factory_or_exit()
    if not is_valid_course_id(course_id):
        fail(f"Invalid course id {course_id!r}: use lowercase letters, digits, '-' or '_'.")
    try:
        due = dt.date.fromisoformat(deadline) if deadline else None
    except ValueError:
        fail(f"Invalid deadline {deadline!r}: use YYYY-MM-DD, e.g. 2026-12-31.")
    course = Course(course_id, title, tuple(resolution or ()), tuple(audience or ()), due)
    try:
        with transaction(factory) as session:
            upsert_course(session, course)
            course_files.write_course_file(settings.courses_dir, course)
    except UnknownAudienceError as error:
        fail(str(error))
    typer.echo(course_id)


@app.command("list")
def course_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List courses with their deadlines and audiences."""
    _, factory = factory_or_exit()
    with transaction(factory) as session:
        courses = [course_of(row) for row in list_courses(session)]
    if as_json:
        rows = [course_files.course_to_dict(c) | {"deadline": c.deadline and c.deadline.isoformat()} for c in courses]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for course in courses:
        typer.echo(f"{course.id}\t{course.deadline or '-'}\t{course.title}")


@app.command("sync")
def course_sync() -> None:
    """Reload every course file from the courses folder."""
    settings, factory = factory_or_exit()
    try:
        typer.echo(f"{setup_steps.ensure_courses(settings, factory)} course(s) loaded")
    except (course_files.CourseFileError, UnknownAudienceError) as error:
        fail(str(error))
