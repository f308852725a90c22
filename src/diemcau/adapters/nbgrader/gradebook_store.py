"""Grades into nbgrader's gradebook on nbgrader's own tables, a batch of submissions in one short transaction.

``Gradebook.add_submission`` builds a submission's rows through the ORM (~45 ms for five questions, most of it
loading nbgrader's computed score columns); the rows written here are the same ones — a ``submitted_assignment``,
one ``submitted_notebook``, a ``grade`` per grade cell, a ``comment`` per solution cell, ids of the form of
nbgrader's ``new_uuid`` — written with a few set-based statements on the tables of ``nbgrader.api``, the same
handful for one submission or a hundred (``save_grades_many``). Reads by nbgrader itself (formgrader, ``nbgrader
export``, ``Gradebook.find_submission(...).score``) see ordinary submissions; ``tests/test_quiz_grading.py`` and
``tests/test_quiz_batches.py`` check that against nbgrader's own autograde of the same answers.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass

from nbgrader.api import (
    Assignment,
    BaseCell,
    Comment,
    Grade,
    GradeCell,
    Notebook,
    SolutionCell,
    SourceCell,
    Student,
    SubmittedAssignment,
    SubmittedNotebook,
    TaskCell,
)
from sqlalchemy import Connection, bindparam, insert, select, update

# Plain tables, not the ORM classes: the cell classes are joined-table subclasses of BaseCell.
_GRADE, _COMMENT, _BASE_CELL = Grade.__table__, Comment.__table__, BaseCell.__table__
_GRADE_CELL, _SOLUTION_CELL, _TASK_CELL = GradeCell.__table__, SolutionCell.__table__, TaskCell.__table__


@dataclass(frozen=True)
class QuizLayout:
    """What the gradebook knows of a released quiz: ids of its assignment, notebook and cells, locked sources."""

    assignment_id: str
    notebook_id: str
    duedate: dt.datetime | None
    grade_cells: dict[str, tuple[str, float]]  # cell name -> (cell id, max score)
    comment_cells: dict[str, str]  # solution and task cell name -> cell id
    locked_sources: dict[str, str]  # name -> source, for the cells nbgrader's OverwriteCells restores


@dataclass(frozen=True)
class StoredGrade:
    """One cell's grade as the gradebook holds it."""

    name: str
    auto_score: float | None
    manual_score: float | None
    max_score: float
    needs_manual_grade: bool

    @property
    def score(self) -> float:
        """nbgrader's rule: the manual score when a human gave one, else the automatic one."""
        return (self.manual_score if self.manual_score is not None else self.auto_score) or 0.0


def load_layout(connection: Connection, quiz_id: str, notebook_name: str) -> QuizLayout:
    """The released quiz's layout (raises ``LookupError`` before ``generate_assignment`` ran)."""
    row = connection.execute(
        select(Assignment.id, Assignment.duedate, Notebook.id.label("notebook_id"))
        .join(Notebook, Notebook.assignment_id == Assignment.id)
        .where(Assignment.name == quiz_id, Notebook.name == notebook_name)
    ).first()
    if row is None:
        raise LookupError(f"quiz {quiz_id} is not in the gradebook: release it first")
    grade_cells = {
        name: (cell_id, float(points))
        for name, cell_id, points in connection.execute(
            select(_BASE_CELL.c.name, _GRADE_CELL.c.id, _GRADE_CELL.c.max_score)
            .join(_BASE_CELL, _BASE_CELL.c.id == _GRADE_CELL.c.id)
            .where(_BASE_CELL.c.notebook_id == row.notebook_id)
        )
    }
    comment_cells = {
        name: cell_id
        for table in (_SOLUTION_CELL, _TASK_CELL)
        for name, cell_id in connection.execute(
            select(_BASE_CELL.c.name, table.c.id)
            .join(_BASE_CELL, _BASE_CELL.c.id == table.c.id)
            .where(_BASE_CELL.c.notebook_id == row.notebook_id)
        )
    }
    sources = connection.execute(
        select(SourceCell.name, SourceCell.source, SourceCell.locked).where(SourceCell.notebook_id == row.notebook_id)
    )
    locked = {name: source for name, source, is_locked in sources if is_locked or name in grade_cells}
    return QuizLayout(row.id, row.notebook_id, row.duedate, grade_cells, comment_cells, locked)


@dataclass(frozen=True)
class AutoGrades:
    """One submission's automatic grades and comments, as ``SaveAutoGrades`` would record them."""

    student_id: str
    timestamp: dt.datetime  # naive UTC, as nbgrader stores it
    scores: dict[str, float | None]  # grade cell name -> auto score
    comments: dict[str, str | None]  # solution/task cell name -> auto comment


def _ensure_students(connection: Connection, student_ids: list[str]) -> None:
    known = set(connection.scalars(select(Student.id).where(Student.id.in_(student_ids))))
    missing = [{"id": s} for s in dict.fromkeys(student_ids) if s not in known]
    if missing:
        connection.execute(insert(Student), missing)


def held_notebooks(connection: Connection, layout: QuizLayout, student_ids: list[str]) -> dict[str, tuple[str, str]]:
    """``student -> (submitted assignment id, submitted notebook id)`` for those the gradebook holds a submission of."""
    rows = connection.execute(
        select(SubmittedAssignment.student_id, SubmittedAssignment.id, SubmittedNotebook.id)
        .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        .where(
            SubmittedAssignment.assignment_id == layout.assignment_id,
            SubmittedAssignment.student_id.in_(student_ids),
            SubmittedNotebook.notebook_id == layout.notebook_id,  # so the (notebook_id, assignment_id) index serves
        )
    )
    return {student: (assignment_id, notebook_id) for student, assignment_id, notebook_id in rows}


def new_uuids(count: int) -> Iterator[str]:
    """``count`` ids as nbgrader's ``new_uuid`` makes them (random UUID4 as hex), from one draw of random bytes:
    a batch needs ~40 per submission, and ``uuid.uuid4`` one by one was a tenth of the grading time."""
    data = bytearray(os.urandom(16 * count))
    for start in range(0, 16 * count, 16):
        data[start + 6] = (data[start + 6] & 0x0F) | 0x40  # version 4
        data[start + 8] = (data[start + 8] & 0x3F) | 0x80  # RFC 4122 variant
    text = data.hex()
    return (text[start : start + 32] for start in range(0, 32 * count, 32))


def _insert_new(connection: Connection, layout: QuizLayout, new: list[AutoGrades]) -> None:
    """The rows ``Gradebook.add_submission`` creates, for students the gradebook holds nothing of yet."""
    assignments, notebooks, grades, comments = [], [], [], []
    ids = new_uuids(sum(2 + len(s.scores) + len(s.comments) for s in new))
    new_uuid = ids.__next__
    for submission in new:
        assignment_id, notebook_id = new_uuid(), new_uuid()
        assignments.append(
            {
                "id": assignment_id,
                "assignment_id": layout.assignment_id,
                "student_id": submission.student_id,
                "timestamp": submission.timestamp,
            }
        )
        notebooks.append(
            {"id": notebook_id, "assignment_id": assignment_id, "notebook_id": layout.notebook_id, "flagged": False}
        )
        grades += [
            {
                "id": new_uuid(),
                "notebook_id": notebook_id,
                "cell_id": layout.grade_cells[name][0],
                "auto_score": score,
                "needs_manual_grade": score is None,
            }
            for name, score in submission.scores.items()
        ]
        comments += [
            {"id": new_uuid(), "notebook_id": notebook_id, "cell_id": layout.comment_cells[name], "auto_comment": text}
            for name, text in submission.comments.items()
        ]
    connection.execute(insert(SubmittedAssignment), assignments)
    connection.execute(insert(SubmittedNotebook), notebooks)
    for table, rows in ((_GRADE, grades), (_COMMENT, comments)):
        if rows:
            connection.execute(insert(table), rows)


def _replace_held(connection: Connection, layout: QuizLayout, held: list[tuple[tuple[str, str], AutoGrades]]) -> None:
    """A new attempt over the one the gradebook holds: same rows, new timestamp and grades, manual ones cleared."""
    connection.execute(
        update(SubmittedAssignment)
        .where(SubmittedAssignment.id == bindparam("sa_id"))
        .values(timestamp=bindparam("ts")),
        [{"sa_id": ids[0], "ts": submission.timestamp} for ids, submission in held],
    )
    connection.execute(
        update(SubmittedNotebook)
        .where(SubmittedNotebook.id == bindparam("sn_id"))
        .values(late_submission_penalty=None),
        [{"sn_id": ids[1]} for ids, _submission in held],
    )
    grades = [
        {"g_nb": ids[1], "g_cell": layout.grade_cells[name][0], "g_auto": score, "g_needs": score is None}
        for ids, submission in held
        for name, score in submission.scores.items()
    ]
    comments = [
        {"c_nb": ids[1], "c_cell": layout.comment_cells[name], "c_auto": text}
        for ids, submission in held
        for name, text in submission.comments.items()
    ]
    if grades:
        connection.execute(
            update(_GRADE)
            .where(_GRADE.c.cell_id == bindparam("g_cell"), _GRADE.c.notebook_id == bindparam("g_nb"))
            .values(
                auto_score=bindparam("g_auto"),
                manual_score=None,
                extra_credit=None,
                needs_manual_grade=bindparam("g_needs"),
            ),
            grades,
        )
    if comments:
        connection.execute(
            update(_COMMENT)
            .where(_COMMENT.c.cell_id == bindparam("c_cell"), _COMMENT.c.notebook_id == bindparam("c_nb"))
            .values(auto_comment=bindparam("c_auto"), manual_comment=None),
            comments,
        )


def save_grades_many(connection: Connection, layout: QuizLayout, submissions: list[AutoGrades]) -> None:
    """Record the automatic grades of several submissions (each student at most once) with a few set-based
    statements: what ``save_grades`` does for one, at a fraction of the statements per submission."""
    students = [s.student_id for s in submissions]
    if len(set(students)) != len(students):
        raise ValueError("one submission per student and transaction: nbgrader's gradebook holds one")
    if not submissions:
        return
    _ensure_students(connection, students)
    held = held_notebooks(connection, layout, students)
    new = [s for s in submissions if s.student_id not in held]
    if new:
        _insert_new(connection, layout, new)
    replaced = [(held[s.student_id], s) for s in submissions if s.student_id in held]
    if replaced:
        _replace_held(connection, layout, replaced)


def save_grades(
    connection: Connection,
    layout: QuizLayout,
    student_id: str,
    timestamp: dt.datetime,
    auto_scores: dict[str, float | None],
    auto_comments: dict[str, str | None],
) -> None:
    """Record one submission's automatic grades and comments (``timestamp`` naive UTC, as nbgrader stores it).

    The gradebook holds one submission per student: writing an attempt replaces the previous one entirely,
    manual grades included (an essay grade belongs to the attempt it was given for; the application database
    keeps every attempt and re-applies the grade of the one written here, see ``set_manual_grade``).
    """
    save_grades_many(connection, layout, [AutoGrades(student_id, timestamp, auto_scores, auto_comments)])


def held_notebook_id(connection: Connection, layout: QuizLayout, student_id: str) -> str | None:
    """The id of the submitted notebook the gradebook holds for ``student_id``, or ``None``."""
    return connection.scalar(
        select(SubmittedNotebook.id)
        .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
        .where(
            SubmittedAssignment.assignment_id == layout.assignment_id,
            SubmittedAssignment.student_id == student_id,
            SubmittedNotebook.notebook_id == layout.notebook_id,
        )
    )


def stored_grades_many(
    connection: Connection, layout: QuizLayout, student_ids: list[str]
) -> dict[str, list[StoredGrade]]:
    """The grades of these students' submissions, each in cell order of the layout (absent: no submission)."""
    held = held_notebooks(connection, layout, student_ids)
    notebooks = {notebook_id: student for student, (_assignment, notebook_id) in held.items()}
    cells = {cell_id: name for name, (cell_id, _points) in layout.grade_cells.items()}
    # cell_id first: nbgrader's only index on grade is (cell_id, notebook_id), so this stays a lookup, not a scan
    rows = connection.execute(
        select(
            _GRADE.c.notebook_id,
            _GRADE.c.cell_id,
            _GRADE.c.auto_score,
            _GRADE.c.manual_score,
            _GRADE.c.needs_manual_grade,
        ).where(_GRADE.c.cell_id.in_(list(cells)), _GRADE.c.notebook_id.in_(list(notebooks)))
    )
    found: dict[str, dict[str, tuple]] = {student: {} for student in notebooks.values()}
    for notebook_id, cell_id, auto, manual, flag in rows:
        found[notebooks[notebook_id]][cells[cell_id]] = (auto, manual, flag)
    return {
        student: [
            StoredGrade(name, by_name[name][0], by_name[name][1], points, bool(by_name[name][2]))
            for name, (_cell, points) in layout.grade_cells.items()
            if name in by_name
        ]
        for student, by_name in found.items()
    }


def stored_grades(connection: Connection, layout: QuizLayout, student_id: str) -> list[StoredGrade]:
    """The grades of ``student_id``'s submission, in cell order of the layout."""
    return stored_grades_many(connection, layout, [student_id]).get(student_id, [])


def set_manual_grade(
    connection: Connection,
    layout: QuizLayout,
    student_id: str,
    cell_name: str,
    score: float | None,
    comment: str | None,
) -> None:
    """A human's grade and comment on one cell of a student's submission (``None`` clears them)."""
    cell_id = layout.grade_cells[cell_name][0]
    submitted = held_notebook_id(connection, layout, student_id)
    connection.execute(
        update(_GRADE)
        .where(_GRADE.c.notebook_id == submitted, _GRADE.c.cell_id == cell_id)
        .values(manual_score=score, needs_manual_grade=score is None)
    )
    if cell_name in layout.comment_cells:
        comment_id = layout.comment_cells[cell_name]
        connection.execute(
            update(_COMMENT)
            .where(_COMMENT.c.notebook_id == submitted, _COMMENT.c.cell_id == comment_id)
            .values(manual_comment=comment)
        )


def submission_timestamp(connection: Connection, layout: QuizLayout, student_id: str) -> dt.datetime | None:
    """The timestamp (naive UTC) of the submission the gradebook holds for ``student_id``, or ``None``."""
    return connection.scalar(
        select(SubmittedAssignment.timestamp).where(
            SubmittedAssignment.assignment_id == layout.assignment_id, SubmittedAssignment.student_id == student_id
        )
    )
