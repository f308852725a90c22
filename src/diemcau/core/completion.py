"""The completion rule: each lecture watched (or attended at a screening), each quiz passed, essay graded.

Moodle's conditions (viewed, pass grade, graded) in one pure function; the status is derived from records by
``core.course.derive_status`` and never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from diemcau.core.course import CompletionRule

DEFAULT_PASSING_ESSAY_GRADES = ("Xuất sắc", "Tốt", "Đạt")


@dataclass(frozen=True)
class MemberRecords:
    """What the records say one member did in one course."""

    coverage: Mapping[str, float]  # lecture id -> percent watched
    screened: frozenset[str] = frozenset()  # lecture ids attended at a group screening
    quizzes_passed: frozenset[str] = frozenset()
    quizzes_attempted: frozenset[str] = frozenset()
    essay_grade: str | None = None
    essay_submitted: bool = False


@dataclass(frozen=True)
class Completion:
    """The verdict: done or not, whether anything was started, and what is still missing."""

    completed: bool
    started: bool
    missing: tuple[str, ...]


def evaluate(
    rule: CompletionRule,
    lectures: tuple[str, ...],
    quizzes: tuple[str, ...],
    records: MemberRecords,
    passing_grades: tuple[str, ...] = DEFAULT_PASSING_ESSAY_GRADES,
) -> Completion:
    """Apply the course's rule to a member's records; ``missing`` names each unmet condition.

    A course with nothing to do yet (no published lecture, no released quiz, no essay) is complete for nobody:
    its one missing condition is ``content`` until the trainers publish something.
    """
    missing: list[str] = []
    if not lectures and not quizzes and not rule.essay_required:
        missing.append("content")
    for lecture in lectures:
        watched = records.coverage.get(lecture, 0.0) >= rule.min_watched_percent
        screened = rule.screening_counts and lecture in records.screened
        if not (watched or screened):
            missing.append(f"lecture:{lecture}")
    if rule.quizzes_passed:
        missing += [f"quiz:{quiz}" for quiz in quizzes if quiz not in records.quizzes_passed]
    if rule.essay_required and records.essay_grade not in passing_grades:
        missing.append("essay")
    started = (
        any(v > 0 for v in records.coverage.values())
        or bool(records.screened or records.quizzes_attempted)
        or records.essay_submitted
    )
    return Completion(not missing, started or not missing, tuple(missing))
