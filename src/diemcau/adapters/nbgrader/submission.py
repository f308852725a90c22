"""A stored submission written into nbgrader's ``submitted/`` layout, exactly as ``nbgrader collect`` would leave it.

``submitted/<student>/<quiz>/<quiz>.ipynb`` is the released notebook with each answer cell set to
``answer = <the member's answer as a Python literal>`` and the essay cell set to the essay text;
``timestamp.txt`` beside it holds the submission time in UTC (nbgrader reads it to work out lateness).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode

from diemcau.adapters.nbgrader.release import notebook_path, write_atomically
from diemcau.adapters.nbgrader.source_notebook import ANSWER_NAME

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"


def answer_source(value: Any) -> str:
    """An answer cell's source: ``repr`` of plain JSON values is a safe Python literal, never code."""
    if not (value is None or isinstance(value, (str, list, bool))) or (
        isinstance(value, list) and not all(isinstance(v, str) for v in value)
    ):
        raise ValueError(f"not an answer value: {value!r}")
    return f"{ANSWER_NAME} = {value!r}"


def submitted_notebook(released: NotebookNode, answers: Mapping[str, Any]) -> NotebookNode:
    """The released notebook as the member would have filled it in (``released`` itself is left untouched)."""
    # Code cells (answers, tests) are copied one level deep: grading replaces their source and outputs, never
    # their metadata. Markdown cells other than the essay are never changed, so they are shared.
    notebook = NotebookNode(released)
    notebook.cells = [
        NotebookNode(cell)
        if cell.cell_type == "code" or cell.metadata.get("diemcau", {}).get("role") == "essay"
        else cell
        for cell in released.cells
    ]
    for cell in notebook.cells:
        role = cell.metadata.get("diemcau", {}).get("role")
        question_id = cell.metadata.get("diemcau", {}).get("question")
        if role == "answer" and question_id in answers:
            cell.source = answer_source(answers[question_id])
        elif role == "essay" and question_id in answers:
            cell.source = str(answers[question_id])
    return notebook


def format_timestamp(moment: dt.datetime) -> str:
    """``timestamp.txt`` contents for an aware ``moment``."""
    return moment.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def write_submission(
    root: Path, released: NotebookNode, quiz_id: str, student_id: str, answers: Mapping[str, Any],
    submitted_at: dt.datetime,
) -> Path:  # fmt: skip
    """Write one submission into ``submitted/`` (notebook first, then its timestamp); returns the notebook path."""
    path = notebook_path(root, "submitted", quiz_id, student_id)
    write_atomically(path, nbformat.writes(submitted_notebook(released, answers)))
    write_atomically(path.parent / "timestamp.txt", format_timestamp(submitted_at))
    return path
