"""Compile a quiz spec into an nbgrader *source* notebook (the instructor version, with keys and hidden tests).

Per autograded question: a locked markdown cell (the question, its options in ``metadata.diemcau``), an
answer cell (a solution cell whose solution region holds ``answer = <key>``, replaced on release by
``answer = None``), and a locked test cell worth the question's points whose hidden test calls
``core.quiz_answers.check_cell``. An essay is one manually graded markdown solution cell. The setup cell at the
top imports the checker, so the notebook also grades on a kernel, exactly as nbgrader always does; the fast
path (``evaluate.py``) reads the same hidden tests without one.
"""

from __future__ import annotations

from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode

from diemcau.core.quiz_answers import rule_of
from diemcau.core.quiz_rules import rules_of, rules_to_dict
from diemcau.core.quiz_spec import Question, QuestionType, QuizSpec

SCHEMA_VERSION = 3
SETUP_SOURCE = "from diemcau.core.quiz_answers import check_cell as _diemcau_check"
ANSWER_NAME = "answer"
CHECK_FUNCTION = "_diemcau_check"


def _nbgrader(grade_id: str, *, grade=False, solution=False, locked=False, points: float | None = None) -> dict:
    meta: dict[str, Any] = {
        "grade": grade,
        "solution": solution,
        "locked": locked,
        "grade_id": grade_id,
        "schema_version": SCHEMA_VERSION,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return meta


def _question_markdown(number: int, question: Question) -> str:
    options = "\n".join(f"- {option.id}. {option.text}" for option in question.options)
    return f"**Câu {number}.** {question.text}" + (f"\n\n{options}" if options else "")


def public_question(question: Question) -> dict[str, Any]:
    """What a member may know of a question: no key. Carried by the released question cell."""
    return {
        "role": "question",
        "question": question.id,
        "type": question.type.value,
        "text": question.text,
        "points": question.points,
        "options": [{"id": o.id, "text": o.text} for o in question.options],
        "min_words": question.min_words,
    }


def _cells_for(number: int, question: Question) -> list[NotebookNode]:
    text = nbformat.v4.new_markdown_cell(_question_markdown(number, question))
    text.metadata = {"nbgrader": _nbgrader(f"{question.id}_text", locked=True), "diemcau": public_question(question)}
    if question.type == QuestionType.ESSAY:
        essay = nbformat.v4.new_markdown_cell("")
        essay.metadata = {
            "nbgrader": _nbgrader(question.id, grade=True, solution=True, points=question.points),
            "diemcau": {"role": "essay", "question": question.id},
        }
        return [text, essay]
    key: Any = list(question.answer) if question.type == QuestionType.MULTIPLE else question.answer[0]
    answer = nbformat.v4.new_code_cell(f"### BEGIN SOLUTION\n{ANSWER_NAME} = {key!r}\n### END SOLUTION")
    answer.metadata = {
        "nbgrader": _nbgrader(f"{question.id}_answer", solution=True),
        "diemcau": {"role": "answer", "question": question.id},
    }
    check = nbformat.v4.new_code_cell(
        f"# Kiểm tra câu {number}\n### BEGIN HIDDEN TESTS\n"
        f"{CHECK_FUNCTION}({question.id!r}, {ANSWER_NAME}, {rule_of(question)!r})\n### END HIDDEN TESTS"
    )
    check.metadata = {
        "nbgrader": _nbgrader(question.id, grade=True, locked=True, points=question.points),
        "diemcau": {"role": "check", "question": question.id},
    }
    return [text, answer, check]


def build_source_notebook(spec: QuizSpec) -> NotebookNode:
    """The nbgrader source notebook of ``spec``."""
    header = nbformat.v4.new_markdown_cell(f"# {spec.title}\n\n{spec.description}".strip())
    setup = nbformat.v4.new_code_cell(SETUP_SOURCE)
    setup.metadata = {"nbgrader": _nbgrader("setup", locked=True), "diemcau": {"role": "setup"}}
    cells = [header, setup]
    for number, question in enumerate(spec.questions, start=1):
        cells += _cells_for(number, question)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "diemcau": {
            "course": spec.course_id,
            "quiz": spec.quiz_id,
            "title": spec.title,
            "description": spec.description,
            "total_points": spec.total_points,
            "rules": rules_to_dict(rules_of(spec)),
        },
    }
    return notebook
