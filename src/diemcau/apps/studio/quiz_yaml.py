"""The quiz form's values → the spec YAML that ``docs/quizzes.md`` describes. Pure; the API validates it.

The form keeps whatever the trainer typed; this module only shapes it (one option per line, answers by letter
or one accepted answer per line) and leaves every judgement — a missing title, an answer that is not an option
— to ``core.quiz_spec_check`` behind the API, so the rules live in one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import yaml


@dataclass(frozen=True)
class QuestionValues:
    """One question as typed in the form."""

    id: str
    type: str
    text: str
    points: float | None = None
    options: str = ""  # one per line
    answer: str = ""  # letters "A" / "A, C"; "đúng"/"sai"; accepted short answers one per line
    min_words: int = 0


@dataclass(frozen=True)
class QuizValues:
    """The whole form."""

    title: str
    description: str = ""
    pass_mark: float = 50
    attempts: int = 1
    counts: str = "best"
    late: str = "accept"
    opens: dt.date | None = None
    closes: dt.date | None = None
    shuffle_questions: bool = False
    shuffle_options: bool = False
    questions: tuple[QuestionValues, ...] = field(default_factory=tuple)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _answer(q: QuestionValues) -> Any:
    if q.type == "essay":
        return None
    if q.type == "true_false":
        return q.answer.strip() or None
    if q.type == "short":
        return _lines(q.answer) or None
    letters = [a.strip().upper() for a in q.answer.replace(";", ",").split(",") if a.strip()]
    if q.type == "multiple":
        return letters or None
    return letters[0] if len(letters) == 1 else (letters or None)


def question_spec(q: QuestionValues) -> dict[str, Any]:
    """One question's mapping in the spec (empty values left out, so the checker names what is missing)."""
    spec: dict[str, Any] = {"id": q.id.strip(), "type": q.type, "text": q.text.strip()}
    if q.type in ("single", "multiple"):
        spec["options"] = _lines(q.options)
    answer = _answer(q)
    if answer is not None:
        spec["answer"] = answer
    if q.points is not None:
        spec["points"] = q.points
    if q.type == "essay" and q.min_words:
        spec["min_words"] = q.min_words
    return {k: v for k, v in spec.items() if v not in ("", None)}


def quiz_spec(values: QuizValues) -> dict[str, Any]:
    """The spec mapping, in the order a trainer reads it."""
    spec: dict[str, Any] = {"title": values.title.strip()}
    if values.description.strip():
        spec["description"] = values.description.strip()
    spec |= {"pass_mark": values.pass_mark, "attempts": values.attempts, "counts": values.counts}
    if values.opens:  # dates, not strings: YAML writes them bare, so a closing date means the end of that day
        spec["opens"] = values.opens
    if values.closes:
        spec["closes"] = values.closes
    spec["late"] = values.late
    spec["shuffle"] = {"questions": values.shuffle_questions, "options": values.shuffle_options}
    spec["questions"] = [question_spec(q) for q in values.questions]
    return {k: v for k, v in spec.items() if v != ""}


def to_yaml(values: QuizValues) -> str:
    """The YAML text of the spec (Vietnamese kept as written, keys in form order)."""
    return yaml.safe_dump(quiz_spec(values), allow_unicode=True, sort_keys=False, width=1000)
