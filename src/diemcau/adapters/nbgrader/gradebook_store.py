"""Grades into nbgrader's gradebook in one short transaction per submission, on nbgrader's own tables.

``Gradebook.add_submission`` builds a submission's rows through the ORM (~45 ms for five questions, most of it
loading nbgrader's computed score columns); the rows written here are the same ones — a ``submitted_assignment``,
one ``submitted_notebook``, a ``grade`` per grade cell, a ``comment`` per solution cell, ids from nbgrader's
``new_uuid`` — written with a few set-based statements on the tables of ``nbgrader.api``. Reads by nbgrader
itself (formgrader, ``nbgrader export``, ``Gradebook.find_submission(...).score``) see an ordinary submission;
``tests/test_quiz_grading.py`` checks that against nbgrader's own autograde of the same answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from nbgrader.api import (
    Assignment, BaseCell, Comment, Grade, GradeCell, Notebook, SolutionCell, SourceCell, Student,
    SubmittedAssignment, SubmittedNotebook, TaskCell, new_uuid,
)  # fmt: skip
from sqlalchemy import Connection, and_, bindparam, insert, select, update

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
            .join(_BASE_CELL, _BASE_CELL.c.id == _GRADE_CELL.c.id).where(_BASE_CELL.c.notebook_id == row.notebook_id)
        )
    }  # fmt: skip
    comment_cells = {
        name: cell_id
        for table in (_SOLUTION_CELL, _TASK_CELL)
        for name, cell_id in connection.execute(
            select(_BASE_CELL.c.name, table.c.id)
            .join(_BASE_CELL, _BASE_CELL.c.id == table.c.id).where(_BASE_CELL.c.notebook_id == row.notebook_id)
        )
    }  # fmt: skip
    sources = connection.execute(
        select(SourceCell.name, SourceCell.source, SourceCell.locked).where(SourceCell.notebook_id == row.notebook_id)
    )
    locked = {name: source for name, source, is_locked in sources if is_locked or name in grade_cells}
    return QuizLayout(row.id, row.notebook_id, row.duedate, grade_cells, comment_cells, locked)


def _ensure_student(connection: Connection, student_id: str) -> None:
    if connection.execute(select(Student.id).where(Student.id == student_id)).first() is None:
        connection.execute(insert(Student).values(id=student_id))


def _submitted_notebook(
    connection: Connection, layout: QuizLayout, student_id: str, timestamp: dt.datetime
) -> tuple[str, bool]:
    """The submitted notebook id for this student (created with its submission when new) and whether it is new."""
    found = connection.execute(
        select(SubmittedAssignment.id, SubmittedNotebook.id.label("nb"))
        .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        .where(
            SubmittedAssignment.assignment_id == layout.assignment_id, SubmittedAssignment.student_id == student_id,
            SubmittedNotebook.notebook_id == layout.notebook_id,  # so the (notebook_id, assignment_id) index serves
        )
    ).first()
    if found is not None:
        connection.execute(
            update(SubmittedAssignment).where(SubmittedAssignment.id == found.id).values(timestamp=timestamp)
        )
        connection.execute(
            update(SubmittedNotebook).where(SubmittedNotebook.id == found.nb).values(late_submission_penalty=None)
        )
        return found.nb, False
    submission_id, notebook_id = new_uuid(), new_uuid()
    connection.execute(
        insert(SubmittedAssignment).values(
            id=submission_id, assignment_id=layout.assignment_id, student_id=student_id, timestamp=timestamp
        )
    )
    connection.execute(
        insert(SubmittedNotebook).values(
            id=notebook_id, assignment_id=submission_id, notebook_id=layout.notebook_id, flagged=False
        )
    )
    return notebook_id, True


def save_grades(
    connection: Connection, layout: QuizLayout, student_id: str, timestamp: dt.datetime,
    auto_scores: dict[str, float | None], auto_comments: dict[str, str | None],
) -> None:  # fmt: skip
    """Record one submission's automatic grades and comments (``timestamp`` naive UTC, as nbgrader stores it).

    The gradebook holds one submission per student: writing an attempt replaces the previous one entirely,
    manual grades included (an essay grade belongs to the attempt it was given for; the application database
    keeps every attempt and re-applies the grade of the one written here, see ``set_manual_grade``).
    """
    _ensure_student(connection, student_id)
    notebook_id, new = _submitted_notebook(connection, layout, student_id, timestamp)
    grades = [{"g_cell": layout.grade_cells[n][0], "g_auto": s} for n, s in auto_scores.items()]
    comments = [{"c_cell": layout.comment_cells[n], "c_auto": c} for n, c in auto_comments.items()]
    if new:
        if grades:
            connection.execute(insert(_GRADE), [
                {"id": new_uuid(), "notebook_id": notebook_id, "cell_id": g["g_cell"], "auto_score": g["g_auto"],
                 "needs_manual_grade": g["g_auto"] is None} for g in grades
            ])  # fmt: skip
        if comments:
            connection.execute(insert(_COMMENT), [
                {"id": new_uuid(), "notebook_id": notebook_id, "cell_id": c["c_cell"], "auto_comment": c["c_auto"]}
                for c in comments
            ])  # fmt: skip
        return
    same_cell = and_(_GRADE.c.notebook_id == notebook_id, _GRADE.c.cell_id == bindparam("g_cell"))
    if grades:
        for grade in grades:
            grade["g_needs"] = grade["g_auto"] is None
        connection.execute(
            update(_GRADE).where(same_cell).values(
                auto_score=bindparam("g_auto"), manual_score=None, extra_credit=None,
                needs_manual_grade=bindparam("g_needs"),
            ),
            grades,
        )  # fmt: skip
    comment_cell = and_(_COMMENT.c.notebook_id == notebook_id, _COMMENT.c.cell_id == bindparam("c_cell"))
    if comments:
        connection.execute(
            update(_COMMENT).where(comment_cell).values(auto_comment=bindparam("c_auto"), manual_comment=None), comments
        )


def held_notebook_id(connection: Connection, layout: QuizLayout, student_id: str) -> str | None:
    """The id of the submitted notebook the gradebook holds for ``student_id``, or ``None``."""
    return connection.scalar(
        select(SubmittedNotebook.id)
        .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
        .where(
            SubmittedAssignment.assignment_id == layout.assignment_id, SubmittedAssignment.student_id == student_id,
            SubmittedNotebook.notebook_id == layout.notebook_id,
        )
    )


def stored_grades(connection: Connection, layout: QuizLayout, student_id: str) -> list[StoredGrade]:
    """The grades of ``student_id``'s submission, in cell order of the layout."""
    notebook_id = held_notebook_id(connection, layout, student_id)
    cells = {cell_id: name for name, (cell_id, _points) in layout.grade_cells.items()}
    # cell_id first: nbgrader's only index on grade is (cell_id, notebook_id), so this stays a lookup, not a scan
    rows = connection.execute(
        select(_GRADE.c.cell_id, _GRADE.c.auto_score, _GRADE.c.manual_score, _GRADE.c.needs_manual_grade).where(
            _GRADE.c.cell_id.in_(list(cells)), _GRADE.c.notebook_id == notebook_id
        )
    )
    by_name = {cells[cell_id]: (auto, manual, flag) for cell_id, auto, manual, flag in rows}
    return [
        StoredGrade(name, *by_name[name][:2], points, bool(by_name[name][2]))
        for name, (_cell, points) in layout.grade_cells.items()
        if name in by_name
    ]


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
        update(_GRADE).where(_GRADE.c.notebook_id == submitted, _GRADE.c.cell_id == cell_id)
        .values(manual_score=score, needs_manual_grade=score is None)
    )  # fmt: skip
    if cell_name in layout.comment_cells:
        comment_id = layout.comment_cells[cell_name]
        connection.execute(
            update(_COMMENT).where(_COMMENT.c.notebook_id == submitted, _COMMENT.c.cell_id == comment_id)
            .values(manual_comment=comment)
        )  # fmt: skip


def submission_timestamp(connection: Connection, layout: QuizLayout, student_id: str) -> dt.datetime | None:
    """The timestamp (naive UTC) of the submission the gradebook holds for ``student_id``, or ``None``."""
    return connection.scalar(
        select(SubmittedAssignment.timestamp).where(
            SubmittedAssignment.assignment_id == layout.assignment_id, SubmittedAssignment.student_id == student_id
        )
    )
