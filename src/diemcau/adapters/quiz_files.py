"""Quiz spec files: ``<courses_dir>/<course>/quizzes/<quiz>.yaml``, read with the line of every field.

YAML is composed into nodes first so each field keeps its line; the values are then validated by
``core.quiz_spec_check.parse_quiz``. Every problem becomes one line ``file:line: field: message`` with the message
in Vietnamese from the catalogue (trainers write these files).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from diemcau.core.quiz_spec import QuizSpec, QuizSpecError, SpecProblem, field_name
from diemcau.core.quiz_spec_check import parse_quiz
from diemcau.i18n import t

QUIZZES_DIR = "quizzes"


@dataclass(frozen=True)
class PlacedProblem:
    """A spec problem placed in its file: line (1-based; ``None`` when the file could not be read) and field."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}"


class QuizFileError(Exception):
    """A quiz file cannot be used; ``problems`` are placed by file, line and field. Nothing was written."""

    def __init__(self, problems: list[PlacedProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def quiz_path(courses_dir: Path, course_id: str, quiz_id: str) -> Path:
    """Where the spec of ``quiz_id`` of ``course_id`` lives."""
    return courses_dir / course_id / QUIZZES_DIR / f"{quiz_id}.yaml"


def _walk(node: yaml.Node, path: tuple, lines: dict[tuple, int], constructor: yaml.SafeLoader) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _walk(value_node, (*path, key), lines, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, (*path, index), lines, constructor) for index, item in enumerate(node.value)]
    return constructor.construct_object(node, deep=True)


def read_yaml_with_lines(text: str) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML into plain values plus the line of each field path (keys and list indexes)."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if node is None:
        return None, {}
    lines: dict[tuple, int] = {}
    return _walk(node, (), lines, yaml.SafeLoader("")), lines


def _line_of(path: tuple, lines: dict[tuple, int]) -> int | None:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path)


def place(problem: SpecProblem, source: str, lines: dict[tuple, int]) -> PlacedProblem:
    """A core problem with its file, line and Vietnamese message."""
    message = t(f"quiz_spec.{problem.code}", **problem.params)
    return PlacedProblem(source, _line_of(problem.path, lines), field_name(problem.path), message)


def parse_quiz_text(text: str, source: str, course_id: str, quiz_id: str) -> QuizSpec:
    """Validate the YAML text of a spec; ``QuizFileError`` names ``source``, the line and the field."""
    try:
        data, lines = read_yaml_with_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        detail = getattr(exc, "problem", None) or str(exc)
        raise QuizFileError([PlacedProblem(source, line, "(tệp)", t("quiz_spec.not_yaml", detail=detail))]) from None
    try:
        return parse_quiz(data, course_id, quiz_id)
    except QuizSpecError as exc:
        raise QuizFileError([place(p, source, lines) for p in exc.problems]) from None


def load_quiz_file(path: Path, course_id: str | None = None) -> QuizSpec:
    """Read and validate one spec file; the course defaults to the folder above ``quizzes/``."""
    if course_id is None:
        course_id = path.resolve().parent.parent.name if path.parent.name == QUIZZES_DIR else "default"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuizFileError([PlacedProblem(str(path), None, "(tệp)", t("quiz_spec.no_file"))]) from None
    except UnicodeDecodeError:
        raise QuizFileError([PlacedProblem(str(path), None, "(tệp)", t("quiz_spec.not_utf8"))]) from None
    return parse_quiz_text(text, str(path), course_id, path.stem)


def load_course_quizzes(courses_dir: Path, course_id: str) -> list[QuizSpec]:
    """Every spec of a course, sorted by quiz id."""
    folder = courses_dir / course_id / QUIZZES_DIR
    return [load_quiz_file(p, course_id) for p in sorted(folder.glob("*.yaml"))]
