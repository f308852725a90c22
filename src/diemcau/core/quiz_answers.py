"""Checking a member's answer against a question's key: the one rule both grading paths share.

The fast path (``adapters.nbgrader.evaluate``, no kernel) and the kernel path (the hidden test cells of the
nbgrader notebook, which import :func:`check_cell`) call the same function, so they cannot disagree.

Short answers are compared after normalisation: Unicode NFC, case folded, spaces collapsed, surrounding
punctuation and quotes dropped. Diacritics are *aware*: an answer typed with Vietnamese marks must carry the
right marks ("bàn" is not "bán": folding makes many words collide), while an answer typed with no marks at all
("ha noi", as on a phone without a Vietnamese keyboard) matches the key folded, đ→d included — unless the
question sets ``accept_no_diacritics: false``, which requires the exact marks.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from diemcau.core.quiz_spec import Question, QuestionType

_PUNCTUATION = " \t\n.,;:!?…\"'“”‘’«»()[]"


def normalise_text(text: str) -> str:
    """``"  Hà   Nội. "`` → ``"hà nội"``: NFC, case folded, inner spaces collapsed, outer punctuation dropped."""
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(text.split()).strip(_PUNCTUATION)


def fold_diacritics(text: str) -> str:
    """Drop every mark and turn đ into d: ``"đảng viên"`` → ``"dang vien"``."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def has_diacritics(text: str) -> bool:
    """Does ``text`` carry any Vietnamese mark (tone, hat, horn, breve) or đ?"""
    return fold_diacritics(text) != text


def short_answer_matches(answer: str, keys: Sequence[str], accept_no_diacritics: bool = True) -> bool:
    """Does a short answer match one of the accepted ``keys`` (see the module docstring for the rule)?"""
    given = normalise_text(answer)
    if not given:
        return False
    for key in keys:
        wanted = normalise_text(key)
        if given == wanted:
            return True
        if accept_no_diacritics and not has_diacritics(given) and given == fold_diacritics(wanted):
            return True
    return False


def _letters(answer: Any) -> list[str]:
    values = answer if isinstance(answer, (list, tuple)) else [answer]
    return [str(v).strip().upper() for v in values if v not in (None, "")]


def _true_false(answer: Any) -> str | None:
    if isinstance(answer, bool):
        return "true" if answer else "false"
    value = str(answer).strip().lower() if answer is not None else ""
    return value if value in ("true", "false") else None


def rule_of(question: Question) -> dict[str, Any]:
    """The key and checking options of an autograded question, as plain JSON (what hidden tests carry)."""
    return {"type": question.type.value, "key": list(question.answer), "lenient": question.accept_no_diacritics}


def is_correct(rule: Mapping[str, Any], answer: Any) -> bool:
    """Is ``answer`` right under ``rule`` (from :func:`rule_of`)? A missing answer is never right."""
    kind, key = QuestionType(rule["type"]), list(rule["key"])
    if answer is None:
        return False
    if kind == QuestionType.SINGLE:
        return _letters(answer) == key
    if kind == QuestionType.MULTIPLE:
        letters = _letters(answer)
        return len(letters) == len(set(letters)) and set(letters) == set(key)
    if kind == QuestionType.TRUE_FALSE:
        return _true_false(answer) == key[0]
    if kind == QuestionType.SHORT:
        return isinstance(answer, str) and short_answer_matches(answer, key, bool(rule.get("lenient", True)))
    raise ValueError(f"{kind} is graded by hand")


class WrongAnswer(AssertionError):
    """Raised by a hidden test whose answer is wrong; nbgrader scores the cell 0 from the error output."""


def check_cell(question_id: str, answer: Any, rule: Mapping[str, Any]) -> None:
    """The body of a hidden test cell: pass silently when right, raise ``WrongAnswer`` otherwise."""
    if not is_correct(rule, answer):
        raise WrongAnswer(f"{question_id}: wrong answer")
