"""``EvaluateWithoutKernel``: nbgrader's ``Execute`` preprocessor, minus the kernel where none is needed.

A quiz notebook's code is three kinds of cell, all written by us: the setup import, ``answer = <literal>``
(the member's answer, always written as a Python literal) and ``_diemcau_check(<id>, answer, <rule>)`` (the
hidden test). Such a notebook is evaluated in-process by calling the same ``check_cell`` the kernel would
import, and each test cell gets the outputs the kernel would have produced (nothing when right, an error output
when wrong), so nbgrader's ``SaveAutoGrades`` scores it exactly as after a real execution. Any other code (a
trainer's own test, an answer that is not a literal) sends the whole notebook to a kernel, as nbgrader does.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute

from diemcau.adapters.nbgrader.source_notebook import ANSWER_NAME, CHECK_FUNCTION, SETUP_SOURCE
from diemcau.adapters.nbgrader.submission import set_plain
from diemcau.core.quiz_answers import WrongAnswer, check_cell

_NOT_EVALUABLE = object()


def _statements(source: str) -> list[ast.stmt] | None:
    try:
        return ast.parse(source).body
    except SyntaxError:
        return None


@lru_cache(maxsize=8192)  # members' answers repeat; parsing is most of the cost of evaluating
def answer_literal(source: str) -> Any:
    """The value of an ``answer = <literal>`` cell, or ``_NOT_EVALUABLE``."""
    body = _statements(source)
    if not body or len(body) != 1 or not isinstance(body[0], ast.Assign):
        return _NOT_EVALUABLE
    target, value = body[0].targets, body[0].value
    if len(target) != 1 or not isinstance(target[0], ast.Name) or target[0].id != ANSWER_NAME:
        return _NOT_EVALUABLE
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError):
        return _NOT_EVALUABLE


@lru_cache(maxsize=8192)
def check_call(source: str) -> tuple[str, dict] | None:
    """``(question id, rule)`` of a ``_diemcau_check(id, answer, rule)`` test cell, or ``None``."""
    body = _statements(source)
    if not body or len(body) != 1 or not isinstance(body[0], ast.Expr) or not isinstance(body[0].value, ast.Call):
        return None
    call = body[0].value
    if not isinstance(call.func, ast.Name) or call.func.id != CHECK_FUNCTION or len(call.args) != 3 or call.keywords:
        return None
    question, answer, rule = call.args
    if not isinstance(answer, ast.Name) or answer.id != ANSWER_NAME:
        return None
    try:
        return ast.literal_eval(question), ast.literal_eval(rule)
    except (ValueError, SyntaxError, TypeError):
        return None


def evaluation_plan(notebook: NotebookNode) -> list[tuple[NotebookNode, str, Any]] | None:
    """Each code cell with what to do (``setup``, ``answer`` + value, ``check`` + call); ``None``: needs a kernel."""
    plan = []
    for cell in notebook["cells"]:
        source = cell["source"]
        if cell["cell_type"] != "code" or not source.strip():
            continue
        if source.strip() == SETUP_SOURCE:
            plan.append((cell, "setup", None))
        elif (value := answer_literal(source)) is not _NOT_EVALUABLE:
            plan.append((cell, "answer", value))
        elif (call := check_call(source)) is not None:
            plan.append((cell, "check", call))
        elif all(not line.strip() or line.lstrip().startswith("#") for line in source.splitlines()):
            plan.append((cell, "none", None))  # comments only, as a released test cell is
        else:
            return None
    return plan


def _error(exc: Exception) -> NotebookNode:
    name = type(exc).__name__
    # the shape nbformat.v4.new_output("error", ...) builds, without its per-output schema validation
    return NotebookNode(output_type="error", ename=name, evalue=str(exc), traceback=[f"{name}: {exc}"])


def evaluate(plan: list[tuple[NotebookNode, str, Any]]) -> None:
    """Give each code cell of an evaluation plan the outputs a kernel would have produced."""
    answer: Any = None
    for count, (cell, kind, payload) in enumerate(plan, start=1):
        outputs: list[NotebookNode] = []
        if kind == "answer":
            answer = payload
        elif kind == "check":
            question_id, rule = payload
            try:
                check_cell(question_id, answer, rule)
            except (WrongAnswer, ValueError, KeyError) as exc:
                outputs = [_error(exc)]
        set_plain(cell, "outputs", outputs)
        set_plain(cell, "execution_count", count)


class EvaluateWithoutKernel(Execute):
    """Execute a quiz notebook in-process when it holds only quiz cells; otherwise start a kernel (nbgrader's way)."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        plan = evaluation_plan(nb)
        if plan is None:
            self.log.info("Notebook holds code other than quiz cells: executing it on a kernel")
            return super().preprocess(nb, resources)
        evaluate(plan)
        return nb, resources


def needs_kernel(notebook: NotebookNode) -> bool:
    """Does this notebook hold code that only a kernel can run (anything but quiz cells)?"""
    return evaluation_plan(notebook) is None
