"""``QuizGrader``: nbgrader's autograde steps for a quiz submission, in-process, without a kernel when none is needed.

The steps are nbgrader's, in nbgrader's order (``converters/autograde.py``), run on the notebook in memory:

1. write the submission into ``submitted/<student>/<quiz>/`` (what ``nbgrader collect`` would leave);
2. restore locked cells and hidden tests from the gradebook (``OverwriteCells``);
3. execute: ``EvaluateWithoutKernel`` (the same checker the hidden tests import, no kernel);
4. save the grades (``SaveAutoGrades``'s rules: ``utils.determine_grade``, "No response." on unchanged
   answers) into the gradebook in one transaction (``gradebook_store``), then re-apply a human's essay grade;
5. write ``autograded/<student>/<quiz>/``.

A notebook holding code other than quiz cells goes through nbgrader's ``Autograde`` converter on a kernel
instead. One grader per course per process: it keeps one gradebook engine and the released quiz in memory
(reloaded when the quiz is released again), which is what makes a submission cost milliseconds, not seconds.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import IntegrityError

from diemcau.adapters.nbgrader.autograde import (
    GradebookResult, QuestionGrade, autograde_config, read_result, run_autograde,
)  # fmt: skip
from diemcau.adapters.nbgrader.course_dir import course_root, gradebook_url
from diemcau.adapters.nbgrader.evaluate import evaluate, evaluation_plan
from diemcau.adapters.nbgrader.gradebook_store import (
    QuizLayout, StoredGrade, load_layout, save_grades, set_manual_grade, stored_grades, submission_timestamp,
)  # fmt: skip
from diemcau.adapters.nbgrader.release import notebook_path, read_notebook, write_atomically
from diemcau.adapters.nbgrader.submission import format_timestamp, submitted_notebook

NO_RESPONSE = "No response."  # nbgrader's own auto comment


@dataclass(frozen=True)
class ManualGrade:
    """A human's grade of one cell (the essay), re-applied whenever its attempt is written to the gradebook."""

    score: float
    comment: str | None = None


@dataclass(frozen=True)
class QuizSubmission:
    """What grading needs of a stored submission (``submitted_at`` aware)."""

    quiz_id: str
    student_id: str
    answers: Mapping[str, Any]
    submitted_at: dt.datetime
    manual: Mapping[str, ManualGrade] = field(default_factory=dict)


def restore_locked_cells(notebook: NotebookNode, locked_sources: Mapping[str, str]) -> None:
    """nbgrader's ``OverwriteCells`` for source: locked and grade cells get the gradebook's (hidden tests back)."""
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader")
        if meta and meta.get("grade_id") in locked_sources and not meta.get("solution"):
            cell.source = locked_sources[meta["grade_id"]]


def automatic_grades(
    notebook: NotebookNode, released: NotebookNode | None = None
) -> tuple[dict[str, float | None], dict[str, str | None]]:
    """Scores of grade cells and comments of solution cells, by ``SaveAutoGrades``'s rules.

    With ``released`` (the notebook ``notebook`` was filled from, cell for cell), an answer whose source differs
    from the released one is known to be a response without computing its checksum.
    """
    scores: dict[str, float | None] = {}
    comments: dict[str, str | None] = {}
    for index, cell in enumerate(notebook.cells):
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        name = meta.get("grade_id")
        if meta.get("grade"):
            scores[name] = utils.determine_grade(cell)[0]
        if meta.get("solution") or meta.get("task"):
            changed = released is not None and cell.source != released.cells[index].source
            unchanged = not changed and meta.get("checksum") == utils.compute_checksum(cell)
            comments[name] = NO_RESPONSE if unchanged and not meta.get("task") else None
    return scores, comments


def result_of(grades: list[StoredGrade], late_seconds: float) -> GradebookResult:
    """The gradebook's view of a submission: total score, points and per-cell grades."""
    questions = tuple(QuestionGrade(g.name, g.score, g.max_score, g.needs_manual_grade) for g in grades)
    return GradebookResult(sum(g.score for g in grades), sum(g.max_score for g in grades), late_seconds, questions)


def _late_seconds(submitted_at: dt.datetime, duedate: dt.datetime | None) -> float:
    if duedate is None:
        return 0.0
    late = submitted_at.astimezone(dt.UTC).replace(tzinfo=None) - duedate
    return max(0.0, late.total_seconds())


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event below starts transactions
    dbapi_connection.execute("PRAGMA busy_timeout=30000")  # parallel graders wait their turn to write
    # WAL + NORMAL: no fsync per commit. A power cut may lose the last grades, never the submissions: they are
    # stored durably in the application database first, and a lost grade is graded again (jobs/quiz_tasks.py).
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def _begin_immediate(connection) -> None:  # type: ignore[no-untyped-def]
    # Take the write lock at the start, so two graders of one student's attempts run one after the other
    # instead of both reading "no submission yet" and colliding on insert.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class QuizGrader:
    """Grades the quiz submissions of one course in this process (see the module docstring)."""

    def __init__(self, settings, course_id: str) -> None:  # type: ignore[no-untyped-def]
        self.settings, self.course_id = settings, course_id
        self.root = course_root(settings, course_id)
        self.db_url = gradebook_url(settings, course_id)
        self.engine: Engine = create_engine(self.db_url)
        if self.db_url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _begin_immediate)
        self._quizzes: dict[str, tuple[int, NotebookNode, QuizLayout]] = {}

    def close(self) -> None:
        self.engine.dispose()

    def _quiz(self, quiz_id: str) -> tuple[NotebookNode, QuizLayout]:
        path = notebook_path(self.root, "release", quiz_id)
        stamp = path.stat().st_mtime_ns
        cached = self._quizzes.get(quiz_id)
        if cached is None or cached[0] != stamp:
            with self.engine.connect() as connection:
                layout = load_layout(connection, quiz_id, quiz_id)
            cached = (stamp, read_notebook(path), layout)
            self._quizzes[quiz_id] = cached
        return cached[1], cached[2]

    def grade(self, submission: QuizSubmission) -> GradebookResult:
        """Write ``submission`` into ``submitted/``, grade it, and return what the gradebook now holds."""
        released, layout = self._quiz(submission.quiz_id)
        notebook = submitted_notebook(released, submission.answers)
        folder = notebook_path(self.root, "submitted", submission.quiz_id, submission.student_id).parent
        write_atomically(folder / f"{submission.quiz_id}.ipynb", json.dumps(notebook, ensure_ascii=False))
        write_atomically(folder / "timestamp.txt", format_timestamp(submission.submitted_at))
        restore_locked_cells(notebook, layout.locked_sources)
        plan = evaluation_plan(notebook)
        if plan is None:
            return self._grade_on_kernel(submission, layout)
        evaluate(plan)  # EvaluateWithoutKernel's work, planned once
        scores, comments = automatic_grades(notebook, released)
        grades = self._save(layout, submission, scores, comments)
        graded = notebook_path(self.root, "autograded", submission.quiz_id, submission.student_id)
        write_atomically(graded, json.dumps(notebook, ensure_ascii=False))
        return result_of(grades, _late_seconds(submission.submitted_at, layout.duedate))

    def _save(self, layout: QuizLayout, submission: QuizSubmission, scores, comments) -> list[StoredGrade]:  # type: ignore[no-untyped-def]
        timestamp = submission.submitted_at.astimezone(dt.UTC).replace(tzinfo=None)
        for tries_left in (2, 1, 0):
            try:
                with self.engine.begin() as connection:
                    save_grades(connection, layout, submission.student_id, timestamp, scores, comments)
                    return self._apply_manual(connection, layout, submission)
            except IntegrityError:
                if not tries_left:  # on PostgreSQL a concurrent first attempt of the same student won the insert
                    raise
        raise AssertionError("unreachable")

    def held_timestamp(self, quiz_id: str, student_id: str) -> dt.datetime | None:
        """When the attempt the gradebook holds for ``student_id`` was submitted (aware UTC), or ``None``."""
        _released, layout = self._quiz(quiz_id)
        with self.engine.connect() as connection:
            held = submission_timestamp(connection, layout, student_id)
        return None if held is None else held.replace(tzinfo=dt.UTC)

    def _apply_manual(self, connection, layout: QuizLayout, submission: QuizSubmission) -> list[StoredGrade]:  # type: ignore[no-untyped-def]
        for cell, grade in submission.manual.items():
            set_manual_grade(connection, layout, submission.student_id, cell, grade.score, grade.comment)
        return stored_grades(connection, layout, submission.student_id)

    def _grade_on_kernel(self, submission: QuizSubmission, layout: QuizLayout) -> GradebookResult:
        run_autograde(autograde_config(self.settings, self.course_id), submission.quiz_id, submission.student_id)
        with self.engine.begin() as connection:
            self._apply_manual(connection, layout, submission)
        with Gradebook(self.db_url, self.course_id) as gradebook:
            return read_result(gradebook, submission.quiz_id, submission.student_id)
