"""nbgrader's autograde steps on a notebook in memory: ``OverwriteCells`` (locked sources back from the gradebook)
and ``SaveAutoGrades``'s rules (scores of grade cells, "No response." on unanswered solution cells).

These are nbgrader's rules, written for a notebook that ``submission.submitted_notebook`` filled in from the
released one: what ``OverwriteCells`` changes in such a notebook is the same for every submission of a release,
so it is worked out once (``locked_restores``) and applied per submission (``apply_restores``).
"""

from __future__ import annotations

from collections.abc import Mapping

from nbformat.notebooknode import NotebookNode
from nbgrader import utils

from diemcau.adapters.nbgrader.submission import set_plain

NO_RESPONSE = "No response."  # nbgrader's own auto comment


def restore_locked_cells(notebook: NotebookNode, locked_sources: Mapping[str, str]) -> None:
    """nbgrader's ``OverwriteCells`` for source: locked and grade cells get the gradebook's (hidden tests back)."""
    for cell in notebook["cells"]:
        meta = cell["metadata"].get("nbgrader")
        if meta and meta.get("grade_id") in locked_sources and not meta.get("solution"):
            set_plain(cell, "source", locked_sources[meta["grade_id"]])


def locked_restores(released: NotebookNode, locked_sources: Mapping[str, str]) -> tuple[tuple[int, str], ...]:
    """What ``restore_locked_cells`` changes in a notebook filled from ``released``: ``(cell index, source)`` for
    each locked cell whose gradebook source differs (the hidden tests). Worked out once per release."""
    restored = NotebookNode(released)
    set_plain(restored, "cells", [NotebookNode(cell) for cell in released["cells"]])
    restore_locked_cells(restored, locked_sources)
    return tuple(
        (index, cell["source"])
        for index, (cell, before) in enumerate(zip(restored["cells"], released["cells"], strict=True))
        if cell["source"] != before["source"]
    )


def apply_restores(notebook: NotebookNode, released: NotebookNode, restores: tuple[tuple[int, str], ...]) -> None:
    """``restore_locked_cells`` on a notebook filled from ``released``, from its ``locked_restores``."""
    cells = notebook["cells"]
    for index, source in restores:
        if cells[index] is released["cells"][index]:  # shared with the released notebook: never change that one
            cells[index] = NotebookNode(cells[index])
        set_plain(cells[index], "source", source)


def automatic_grades(
    notebook: NotebookNode, released: NotebookNode | None = None
) -> tuple[dict[str, float | None], dict[str, str | None]]:
    """Scores of grade cells and comments of solution cells, by ``SaveAutoGrades``'s rules.

    With ``released`` (the notebook ``notebook`` was filled from, cell for cell), an answer whose source differs
    from the released one is known to be a response without computing its checksum.
    """
    scores: dict[str, float | None] = {}
    comments: dict[str, str | None] = {}
    for index, cell in enumerate(notebook["cells"]):
        meta = cell["metadata"].get("nbgrader")
        if not meta:
            continue
        name = meta.get("grade_id")
        if meta.get("grade"):
            scores[name] = utils.determine_grade(cell)[0]
        if meta.get("solution") or meta.get("task"):
            changed = released is not None and cell["source"] != released["cells"][index]["source"]
            unchanged = not changed and meta.get("checksum") == utils.compute_checksum(cell)
            comments[name] = NO_RESPONSE if unchanged and not meta.get("task") else None
    return scores, comments
