"""Release a quiz: source notebook → nbgrader ``generate_assignment`` → the released notebook → the public form.

nbgrader's own ``GenerateAssignment`` converter clears the solutions and hidden tests and records the cells,
their points and checksums in the gradebook. nbgrader's ``release_assignment`` would then copy the result
into a shared exchange folder; we stop before it on purpose: the API service is the exchange, and it serves the
form read back here from the released notebook (so nothing a member sees can come from anywhere else).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.converters import GenerateAssignment
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory

from diemcau.adapters.nbgrader.course_dir import ensure_course_dir, gradebook_url, nbgrader_config
from diemcau.adapters.nbgrader.source_notebook import build_source_notebook
from diemcau.core.quiz_form import FormOption, FormQuestion, QuizForm
from diemcau.core.quiz_rules import rules_from_dict
from diemcau.core.quiz_spec import QuestionType, QuizSpec


class ReleaseError(Exception):
    """nbgrader refused to generate the assignment; the message says why and what to do."""


def notebook_path(root: Path, step: str, quiz_id: str, student_id: str | None = None) -> Path:
    """Where nbgrader keeps the quiz notebook at ``step`` (source, release, submitted, autograded)."""
    folder = root / step / student_id / quiz_id if student_id else root / step / quiz_id
    return folder / f"{quiz_id}.ipynb"


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it, so a reader never sees half of it.

    The temporary name is this process's and thread's own (no random name to draw), and the folder is created
    only when missing: grading writes three files per submission through here."""
    temporary = path.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{path.name}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        handle = os.open(temporary, flags, 0o600)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(temporary, flags, 0o600)
    with os.fdopen(handle, "wb") as stream:
        stream.write(text.encode("utf-8"))
    os.replace(temporary, path)


def _utc_naive(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(dt.UTC).replace(tzinfo=None)


def generate(settings, spec: QuizSpec) -> Path:  # type: ignore[no-untyped-def]
    """Write the source notebook and run nbgrader's ``generate_assignment``; returns the released notebook."""
    root = ensure_course_dir(settings, spec.course_id)
    source = notebook_path(root, "source", spec.quiz_id)
    write_atomically(source, nbformat.writes(build_source_notebook(spec)))
    with Gradebook(gradebook_url(settings, spec.course_id), spec.course_id) as gradebook:
        gradebook.update_or_create_assignment(spec.quiz_id, duedate=_utc_naive(spec.closes))
    config = nbgrader_config(settings, spec.course_id)
    config.CourseDirectory.assignment_id = spec.quiz_id
    converter = GenerateAssignment(coursedir=CourseDirectory(config=config), config=config)
    converter.force = True
    try:
        converter.start()
    except NbGraderException as exc:
        raise ReleaseError(
            f"nbgrader could not generate {spec.course_id}/{spec.quiz_id}: {exc}. If members already submitted "
            "this quiz and its questions changed, release the changed questions as a new quiz (a new file name)."
        ) from None
    return notebook_path(root, "release", spec.quiz_id)


def form_of_notebook(notebook: NotebookNode) -> QuizForm:
    """The public form carried by a released notebook's question cells and metadata."""
    meta = notebook.metadata["diemcau"]
    questions = tuple(
        FormQuestion(
            q["question"],
            QuestionType(q["type"]),
            q["text"],
            float(q["points"]),
            tuple(FormOption(o["id"], o["text"]) for o in q["options"]),
            int(q.get("min_words", 0)),
        )
        for q in (cell.metadata.get("diemcau", {}) for cell in notebook.cells)
        if q.get("role") == "question"
    )
    return QuizForm(
        meta["course"],
        meta["quiz"],
        meta["title"],
        meta["description"],
        questions,
        rules_from_dict(meta["rules"]),
        float(meta["total_points"]),
    )


def read_notebook(path: Path) -> NotebookNode:
    """Read a notebook file (nbformat 4)."""
    return nbformat.read(path, as_version=4)


def release_quiz(settings, spec: QuizSpec) -> QuizForm:  # type: ignore[no-untyped-def]
    """Generate the quiz in its course's nbgrader directory and return the form members will see."""
    released = generate(settings, spec)
    return form_of_notebook(read_notebook(released))
