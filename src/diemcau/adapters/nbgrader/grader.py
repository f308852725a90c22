"""``QuizGrader``: nbgrader's autograde steps for a quiz submission, in-process, without a kernel when none is needed.

The steps are nbgrader's, in nbgrader's order (``converters/autograde.py``), run on the notebook in memory:

1. write the submission into ``submitted/<student>/<quiz>/`` (what ``nbgrader collect`` would leave);
2. restore locked cells and hidden tests from the gradebook (``OverwriteCells``);
3. execute: ``EvaluateWithoutKernel`` (the same checker the hidden tests import, no kernel);
4. save the grades (``SaveAutoGrades``'s rules: ``utils.determine_grade``, "No response." on unchanged
   answers) into the gradebook (``gradebook_store``), then re-apply a human's essay grade;
5. write ``autograded/<student>/<quiz>/``.

``grade_many`` runs steps 1-3 for a batch of submissions, step 4 for all of them in one gradebook transaction,
then step 5: the transaction, not the notebooks, was most of the cost of a submission graded alone.

A notebook holding code other than quiz cells goes through nbgrader's ``Autograde`` converter on a kernel
instead. One grader per course per process: it keeps one gradebook engine and the released quiz in memory
(reloaded when the quiz is released again), which is what makes a submission cost milliseconds, not seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from diemcau.adapters.nbgrader.autograde import (
    GradebookResult,
    QuestionGrade,
    autograde_config,
    read_result,
    run_autograde,
)
from diemcau.adapters.nbgrader.course_dir import course_root, gradebook_url
from diemcau.adapters.nbgrader.evaluate import evaluate, evaluation_plan
from diemcau.adapters.nbgrader.gradebook_store import (
    AutoGrades,
    QuizLayout,
    StoredGrade,
    load_layout,
    save_grades_many,
    set_manual_grade,
    stored_grades_many,
    submission_timestamp,
)
from diemcau.adapters.nbgrader.notebook_steps import apply_restores, automatic_grades, locked_restores
from diemcau.adapters.nbgrader.release import notebook_path, read_notebook, write_atomically
from diemcau.adapters.nbgrader.submission import cells_json, format_timestamp, notebook_json, submitted_notebook


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


def result_of(grades: list[StoredGrade], late_seconds: float) -> GradebookResult:
    """The gradebook's view of a submission: total score, points and per-cell grades."""
    questions = tuple(QuestionGrade(g.name, g.score, g.max_score, g.needs_manual_grade) for g in grades)
    return GradebookResult(sum(g.score for g in grades), sum(g.max_score for g in grades), late_seconds, questions)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _late_seconds(submitted_at: dt.datetime, duedate: dt.datetime | None) -> float:
    if duedate is None:
        return 0.0
    late = _naive_utc(submitted_at) - duedate
    return max(0.0, late.total_seconds())


@dataclass(frozen=True)
class _Released:
    """A released quiz as grading needs it, kept until it is released again."""

    notebook: NotebookNode
    layout: QuizLayout
    restores: tuple[tuple[int, str], ...]  # locked_restores
    cells_json: dict[int, str]  # submission.cells_json: valid while ``notebook`` lives, as it does here


@dataclass(frozen=True)
class _Evaluated:
    """A submission through steps 1-3, waiting for its grades to be written (or for a kernel)."""

    index: int
    submission: QuizSubmission
    notebook: NotebookNode
    cells_json: dict[int, str]  # of the released notebook it was filled from
    needs_kernel: bool
    scores: dict[str, float | None]
    comments: dict[str, str | None]


def _rounds(items: list[_Evaluated]) -> list[list[_Evaluated]]:
    """Split a batch so that each student appears once per round, attempts in their order."""
    rounds: list[list[_Evaluated]] = []
    seen: list[set[str]] = []
    for item in items:
        student = item.submission.student_id
        depth = next((i for i, students in enumerate(seen) if student not in students), len(seen))
        if depth == len(seen):
            rounds.append([])
            seen.append(set())
        rounds[depth].append(item)
        seen[depth].add(student)
    return rounds


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
        self._quizzes: dict[str, tuple[int, _Released]] = {}

    def close(self) -> None:
        self.engine.dispose()

    def _quiz(self, quiz_id: str) -> _Released:
        path = notebook_path(self.root, "release", quiz_id)
        stamp = path.stat().st_mtime_ns
        cached = self._quizzes.get(quiz_id)
        if cached is None or cached[0] != stamp:
            with self.engine.connect() as connection:
                layout = load_layout(connection, quiz_id, quiz_id)
            released = read_notebook(path)
            restores = locked_restores(released, layout.locked_sources)
            cached = (stamp, _Released(released, layout, restores, cells_json(released)))
            self._quizzes[quiz_id] = cached
        return cached[1]

    def grade(self, submission: QuizSubmission) -> GradebookResult:
        """Write ``submission`` into ``submitted/``, grade it, and return what the gradebook now holds."""
        result = self.grade_many([submission])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def grade_many(self, submissions: Sequence[QuizSubmission]) -> list[GradebookResult | Exception]:
        """Grade several submissions, each as ``grade`` would, their grades written to the gradebook together.

        One gradebook transaction per quiz (per round: a student's second attempt in the batch goes in a second
        one, as nbgrader holds one submission per student). A submission nbgrader refuses gets its exception in
        its place of the returned list; a database error is raised (the caller retries the whole batch).
        """
        results: list[GradebookResult | Exception | None] = [None] * len(submissions)
        by_quiz: dict[str, list[int]] = {}
        for index, submission in enumerate(submissions):
            by_quiz.setdefault(submission.quiz_id, []).append(index)
        for quiz_id, indexes in by_quiz.items():
            self._grade_quiz(quiz_id, [(i, submissions[i]) for i in indexes], results)
        return results  # type: ignore[return-value]

    def _grade_quiz(self, quiz_id: str, items: list[tuple[int, QuizSubmission]], results: list[Any]) -> None:
        """``grade_many`` for the submissions of one quiz, each result put in ``results`` at its index."""
        try:
            quiz = self._quiz(quiz_id)
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:  # noqa: BLE001 - not released here: every submission of it is refused
            for index, _submission in items:
                results[index] = exc
            return
        evaluated: list[_Evaluated] = []
        for index, submission in items:
            try:
                evaluated.append(self._evaluate(index, submission, quiz))
            except Exception as exc:  # noqa: BLE001 - nbgrader refused this one; the others go on
                results[index] = exc
        for part in _rounds([e for e in evaluated if not e.needs_kernel]):
            self._record(quiz.layout, part, results)
        for item in (e for e in evaluated if e.needs_kernel):
            try:
                results[item.index] = self._grade_on_kernel(item.submission, quiz.layout)
            except Exception as exc:  # noqa: BLE001
                results[item.index] = exc

    def _evaluate(self, index: int, submission: QuizSubmission, quiz: _Released) -> _Evaluated:
        """Steps 1-3: ``submitted/``, locked cells restored, evaluated without a kernel (unless one is needed)."""
        released = quiz.notebook
        notebook = submitted_notebook(released, submission.answers)
        folder = notebook_path(self.root, "submitted", submission.quiz_id, submission.student_id).parent
        write_atomically(folder / f"{submission.quiz_id}.ipynb", notebook_json(notebook, quiz.cells_json))
        write_atomically(folder / "timestamp.txt", format_timestamp(submission.submitted_at))
        apply_restores(notebook, released, quiz.restores)  # nbgrader's OverwriteCells
        plan = evaluation_plan(notebook)
        if plan is None:
            return _Evaluated(index, submission, notebook, quiz.cells_json, True, {}, {})
        evaluate(plan)  # EvaluateWithoutKernel's work, planned once
        scores, comments = automatic_grades(notebook, released)
        return _Evaluated(index, submission, notebook, quiz.cells_json, False, scores, comments)

    def _record(self, layout: QuizLayout, part: list[_Evaluated], results: list[Any]) -> None:
        """Steps 4-5 for a round: grades into the gradebook in one transaction, then ``autograded/``."""
        try:
            grades = self._save(layout, part)
        except (OperationalError, InterfaceError):
            raise  # locked or unreachable gradebook: the caller retries
        except Exception:  # noqa: BLE001 - find the one submission at fault: record the others one by one
            if len(part) == 1:
                raise
            for item in part:
                try:
                    self._record(layout, [item], results)
                except (OperationalError, InterfaceError):
                    raise
                except Exception as exc:  # noqa: BLE001
                    results[item.index] = exc
            return
        for item in part:
            submission = item.submission
            graded = notebook_path(self.root, "autograded", submission.quiz_id, submission.student_id)
            write_atomically(graded, notebook_json(item.notebook, item.cells_json))
            late = _late_seconds(submission.submitted_at, layout.duedate)
            results[item.index] = result_of(grades.get(submission.student_id, []), late)

    def _save(self, layout: QuizLayout, part: list[_Evaluated]) -> dict[str, list[StoredGrade]]:
        batch = [
            AutoGrades(e.submission.student_id, _naive_utc(e.submission.submitted_at), e.scores, e.comments)
            for e in part
        ]
        for tries_left in (2, 1, 0):
            try:
                with self.engine.begin() as connection:
                    save_grades_many(connection, layout, batch)
                    for item in part:
                        self._apply_manual(connection, layout, item.submission)
                    return stored_grades_many(connection, layout, [b.student_id for b in batch])
            except IntegrityError:
                if not tries_left:  # on PostgreSQL a concurrent first attempt of the same student won the insert
                    raise
        raise AssertionError("unreachable")

    def held_timestamp(self, quiz_id: str, student_id: str) -> dt.datetime | None:
        """When the attempt the gradebook holds for ``student_id`` was submitted (aware UTC), or ``None``."""
        layout = self._quiz(quiz_id).layout
        with self.engine.connect() as connection:
            held = submission_timestamp(connection, layout, student_id)
        return None if held is None else held.replace(tzinfo=dt.UTC)

    def _apply_manual(self, connection: Connection, layout: QuizLayout, submission: QuizSubmission) -> None:
        for cell, grade in submission.manual.items():
            set_manual_grade(connection, layout, submission.student_id, cell, grade.score, grade.comment)

    def _grade_on_kernel(self, submission: QuizSubmission, layout: QuizLayout) -> GradebookResult:
        run_autograde(autograde_config(self.settings, self.course_id), submission.quiz_id, submission.student_id)
        with self.engine.begin() as connection:
            self._apply_manual(connection, layout, submission)
        with Gradebook(self.db_url, self.course_id) as gradebook:
            return read_result(gradebook, submission.quiz_id, submission.student_id)
