"""Course definitions as plain files: ``<courses_dir>/<id>/course.yaml``, read and written atomically."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from diemcau.core.course import COURSE_ID_PATTERN, CompletionRule, Course

COURSE_FILE = "course.yaml"


class CourseFileError(Exception):
    """A course file is malformed; the message names the file and the field."""


class _CompletionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_watched_percent: float = Field(95.0, ge=0, le=100)
    screening_counts: bool = True
    quizzes_passed: bool = True
    essay_required: bool = True


class _CourseSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=COURSE_ID_PATTERN.pattern)
    title: str = Field(min_length=1, max_length=255)
    resolutions: list[str] = []
    audience: list[str] = []
    deadline: dt.date | None = None
    completion: _CompletionSpec = _CompletionSpec()


def parse_course(data: Any, source: str) -> Course:
    """Validate a course mapping into a ``Course``; errors name ``source`` and the field."""
    try:
        spec = _CourseSpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"'{'.'.join(map(str, e['loc']))}': {e['msg']}" for e in exc.errors())
        raise CourseFileError(f"{source}: {problems}") from None
    rule = CompletionRule(**spec.completion.model_dump())
    return Course(spec.id, spec.title, tuple(spec.resolutions), tuple(spec.audience), spec.deadline, rule)


def load_course_file(path: Path) -> Course:
    """Read and validate one ``course.yaml``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CourseFileError(f"{path}: not valid YAML ({exc})") from None
    course = parse_course(data, str(path))
    if course.id != path.parent.name:
        raise CourseFileError(f"{path}: 'id' is {course.id!r} but the folder is {path.parent.name!r}; make them equal")
    return course


def load_courses(courses_dir: Path) -> list[Course]:
    """Every course under ``courses_dir``, sorted by id."""
    return [load_course_file(p) for p in sorted(courses_dir.glob(f"*/{COURSE_FILE}"))]


def course_to_dict(course: Course) -> dict[str, Any]:
    """The YAML shape of a course."""
    rule = course.completion_rule
    return {
        "id": course.id,
        "title": course.title,
        "resolutions": list(course.resolutions),
        "audience": list(course.audience),
        "deadline": course.deadline,
        "completion": {
            "min_watched_percent": rule.min_watched_percent,
            "screening_counts": rule.screening_counts,
            "quizzes_passed": rule.quizzes_passed,
            "essay_required": rule.essay_required,
        },
    }


def write_course_file(courses_dir: Path, course: Course) -> Path:
    """Write ``course.yaml`` atomically (temp file + rename), so a crash never leaves half a file."""
    folder = courses_dir / course.id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / COURSE_FILE
    text = yaml.safe_dump(course_to_dict(course), allow_unicode=True, sort_keys=False)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, delete=False, suffix=".tmp") as handle:
        handle.write(text)
    os.replace(handle.name, target)
    return target
