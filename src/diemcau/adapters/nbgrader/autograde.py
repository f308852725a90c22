"""Autograde a submission with nbgrader's own ``Autograde`` converter, and read the result from the gradebook.

The converter runs exactly as ``nbgrader autograde`` does (sanitize: restore locked cells and hidden tests from
the gradebook; then execute, save the grades, apply late penalties), with one extension point changed:
``Execute`` is replaced by ``EvaluateWithoutKernel`` in ``Autograde.autograde_preprocessors``, so a choice or
short-answer quiz needs no kernel. ``kernel=True`` keeps nbgrader's stock list (the baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput
from traitlets.config import Config

from diemcau.adapters.nbgrader.course_dir import nbgrader_config
from diemcau.adapters.nbgrader.evaluate import EvaluateWithoutKernel
from diemcau.adapters.nbgrader.save_grades import SaveAutoGradesOnce

# nbgrader's default list with two substitutions; the order is nbgrader's and matters: grades are saved only
# after the cells have outputs, and late penalties apply to the saved grades.
FAST_AUTOGRADE_PREPROCESSORS = [
    EvaluateWithoutKernel,  # was Execute
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGradesOnce,  # was SaveAutoGrades: one commit per notebook instead of two per cell
    AssignLatePenalties,
    CheckCellMetadata,
]


class GradingError(Exception):
    """nbgrader could not grade a submission; the message carries nbgrader's reason."""


@dataclass(frozen=True)
class QuestionGrade:
    """One graded cell: its score (``None`` while it awaits a human), points, and whether a human must grade it."""

    question_id: str
    score: float | None
    max_score: float
    needs_manual_grade: bool


@dataclass(frozen=True)
class GradebookResult:
    """A student's submission of a quiz as the gradebook holds it."""

    score: float
    max_score: float
    late_seconds: float
    questions: tuple[QuestionGrade, ...]


def autograde_config(settings, course_id: str, kernel: bool = False) -> Config:  # type: ignore[no-untyped-def]
    """The converter config: nbgrader's defaults, with the kernel-free preprocessors unless ``kernel``."""
    config = nbgrader_config(settings, course_id)
    if not kernel:
        config.Autograde.autograde_preprocessors = FAST_AUTOGRADE_PREPROCESSORS
    config.Autograde.force = True
    config.Autograde.create_student = True
    return config


def run_autograde(config: Config, quiz_id: str, student_id: str) -> None:
    """Run nbgrader's ``Autograde`` converter on ``submitted/<student_id>/<quiz_id>/`` in this process."""
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id, coursedir.student_id = quiz_id, student_id
    converter = Autograde(coursedir=coursedir, config=config)
    try:
        converter.start()
    except NbGraderException as exc:
        raise GradingError(f"nbgrader could not autograde {quiz_id} of {student_id}: {exc}") from None


def read_result(gradebook: Gradebook, quiz_id: str, student_id: str) -> GradebookResult:
    """The score and per-cell grades of ``student_id``'s submission from the gradebook."""
    try:
        submission = gradebook.find_submission(quiz_id, student_id)
    except MissingEntry as exc:
        raise GradingError(f"no graded submission of {quiz_id} by {student_id} in the gradebook") from exc
    grades = [grade for notebook in submission.notebooks for grade in notebook.grades]
    questions = tuple(
        QuestionGrade(grade.name, grade.score, grade.max_score, grade.needs_manual_grade) for grade in grades
    )
    return GradebookResult(submission.score, submission.max_score, submission.total_seconds_late, questions)
