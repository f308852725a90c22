"""A stored submission written into nbgrader's ``submitted/`` layout, exactly as ``nbgrader collect`` would leave it.

``submitted/<student>/<quiz>/<quiz>.ipynb`` is the released notebook with each answer cell set to
``answer = <the member's answer as a Python literal>`` and the essay cell set to the essay text;
``timestamp.txt`` beside it holds the submission time in UTC (nbgrader reads it to work out lateness).
"""

from __future__ import annotations

import datetime as dt
import json
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


def set_plain(node: NotebookNode, key: str, value: Any) -> None:
    """``node[key] = value`` for a value that needs no conversion (a string, a number, a list of nodes).

    ``NotebookNode.__setitem__`` walks every value it is given to turn dicts into nodes; grading sets a few
    hundred values per submission, all plain already, so it writes them as ``dict`` does."""
    dict.__setitem__(node, key, value)


def submitted_notebook(released: NotebookNode, answers: Mapping[str, Any]) -> NotebookNode:
    """The released notebook as the member would have filled it in (``released`` itself is left untouched)."""
    # Code cells (answers, tests) are copied one level deep: grading replaces their source and outputs, never
    # their metadata. Markdown cells other than the essay are never changed, so they are shared.
    cells = []
    for cell in released["cells"]:
        role_of = cell["metadata"].get("diemcau")
        role, question_id = (role_of.get("role"), role_of.get("question")) if role_of else (None, None)
        if cell["cell_type"] == "code" or role == "essay":
            cell = NotebookNode(cell)
            if role == "answer" and question_id in answers:
                set_plain(cell, "source", answer_source(answers[question_id]))
            elif role == "essay" and question_id in answers:
                set_plain(cell, "source", str(answers[question_id]))
        cells.append(cell)
    notebook = NotebookNode(released)
    set_plain(notebook, "cells", cells)
    return notebook


def cells_json(released: NotebookNode) -> dict[int, str]:
    """The JSON of each cell of ``released``, by the cell's ``id()``: what ``notebook_json`` reuses for the cells a
    filled-in notebook shares with it (every markdown cell but the essay: half of the bytes)."""
    return {id(cell): json.dumps(cell, ensure_ascii=False) for cell in released["cells"]}


def notebook_json(notebook: NotebookNode, shared: Mapping[int, str]) -> str:
    """``json.dumps(notebook, ensure_ascii=False)``, reusing the JSON of cells it shares with the released notebook
    (``cells_json`` of it: the notebook must come from ``submitted_notebook`` of that same released notebook)."""
    cells = ", ".join(shared.get(id(cell)) or json.dumps(cell, ensure_ascii=False) for cell in notebook["cells"])
    fields = (
        f"{json.dumps(key)}: " + (f"[{cells}]" if key == "cells" else json.dumps(value, ensure_ascii=False))
        for key, value in notebook.items()
    )
    return "{" + ", ".join(fields) + "}"


def format_timestamp(moment: dt.datetime) -> str:
    """``timestamp.txt`` contents for an aware ``moment``."""
    return moment.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def write_submission(
    root: Path,
    released: NotebookNode,
    quiz_id: str,
    student_id: str,
    answers: Mapping[str, Any],
    submitted_at: dt.datetime,
) -> Path:
    """Write one submission into ``submitted/`` (notebook first, then its timestamp); returns the notebook path."""
    path = notebook_path(root, "submitted", quiz_id, student_id)
    write_atomically(path, nbformat.writes(submitted_notebook(released, answers)))
    write_atomically(path.parent / "timestamp.txt", format_timestamp(submitted_at))
    return path
