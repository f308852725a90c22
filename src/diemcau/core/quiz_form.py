"""The public form of a released quiz: what members see and answer, never the keys.

It is read back from nbgrader's *released* notebook (``adapters.nbgrader.release``), so a member's form can
hold nothing the released notebook does not, and is stored with the release so API nodes need no files.
Answers travel as plain JSON: an option letter (single), a list of letters (multiple), ``"true"``/``"false"``,
or text (short answer, essay).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from diemcau.core.quiz_rules import QuizRules, rules_from_dict, rules_of, rules_to_dict, shuffled
from diemcau.core.quiz_spec import QuestionType, QuizSpec

MAX_TEXT_ANSWER = 20_000  # characters; a bài thu hoạch of a few pages


@dataclass(frozen=True)
class FormOption:
    id: str
    text: str


@dataclass(frozen=True)
class FormQuestion:
    """One question as a member sees it."""

    id: str
    type: QuestionType
    text: str
    points: float
    options: tuple[FormOption, ...] = ()
    min_words: int = 0


@dataclass(frozen=True)
class QuizForm:
    """A released quiz as members see it, with the rules the API enforces."""

    course_id: str
    quiz_id: str
    title: str
    description: str
    questions: tuple[FormQuestion, ...]
    rules: QuizRules
    total_points: float

    @property
    def has_essay(self) -> bool:
        return any(q.type == QuestionType.ESSAY for q in self.questions)


def form_to_dict(form: QuizForm) -> dict[str, Any]:
    """The form as JSON."""
    return {
        "course": form.course_id,
        "quiz": form.quiz_id,
        "title": form.title,
        "description": form.description,
        "total_points": form.total_points,
        "rules": rules_to_dict(form.rules),
        "questions": [
            {
                "id": q.id,
                "type": q.type.value,
                "text": q.text,
                "points": q.points,
                "min_words": q.min_words,
                "options": [{"id": o.id, "text": o.text} for o in q.options],
            }
            for q in form.questions
        ],
    }


def form_from_dict(data: Mapping[str, Any]) -> QuizForm:
    """The inverse of :func:`form_to_dict`."""
    questions = tuple(
        FormQuestion(
            q["id"],
            QuestionType(q["type"]),
            q["text"],
            float(q["points"]),
            tuple(FormOption(o["id"], o["text"]) for o in q.get("options", ())),
            int(q.get("min_words", 0)),
        )
        for q in data["questions"]
    )
    return QuizForm(
        data["course"],
        data["quiz"],
        data["title"],
        data.get("description", ""),
        questions,
        rules_from_dict(data["rules"]),
        float(data["total_points"]),
    )


def presented(form: QuizForm, seed: str) -> tuple[FormQuestion, ...]:
    """The questions in the order one member sees them (shuffled per the rules, fixed by ``seed``)."""
    questions = list(form.questions)
    if form.rules.shuffle_questions:
        questions = shuffled(questions, seed + ":questions")
    if form.rules.shuffle_options:
        questions = [
            FormQuestion(q.id, q.type, q.text, q.points, tuple(shuffled(q.options, f"{seed}:{q.id}")), q.min_words)
            for q in questions
        ]
    return tuple(questions)


class AnswerError(ValueError):
    """A submitted answer that does not fit its question; ``code`` is a catalogue key under ``quiz.``."""

    def __init__(self, question_id: str, code: str) -> None:
        super().__init__(f"{question_id}: {code}")
        self.question_id, self.code = question_id, code


def _clean(question: FormQuestion, value: Any) -> Any:
    letters = {o.id for o in question.options}
    if value in (None, "", []):
        return None
    if question.type == QuestionType.SINGLE:
        if not isinstance(value, str) or value not in letters:
            raise AnswerError(question.id, "answer_not_option")
        return value
    if question.type == QuestionType.MULTIPLE:
        if not isinstance(value, list) or not all(isinstance(v, str) and v in letters for v in value):
            raise AnswerError(question.id, "answer_not_option")
        return sorted(set(value))
    if question.type == QuestionType.TRUE_FALSE:
        if value not in ("true", "false", True, False):
            raise AnswerError(question.id, "answer_not_true_false")
        return "true" if value in ("true", True) else "false"
    if not isinstance(value, str) or len(value) > MAX_TEXT_ANSWER:
        raise AnswerError(question.id, "answer_too_long")
    return value


def clean_answers(form: QuizForm, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Answers checked against the form: known questions only, each in its question's shape; blanks dropped."""
    by_id = {q.id: q for q in form.questions}
    for question_id in answers:
        if question_id not in by_id:
            raise AnswerError(str(question_id), "unknown_question")
    cleaned = {q_id: _clean(by_id[q_id], value) for q_id, value in answers.items()}
    return {q_id: value for q_id, value in cleaned.items() if value is not None}


def public_form(spec: QuizSpec) -> QuizForm:
    """What a spec shows members: its questions without keys, and its rules (the released notebook holds the same)."""
    questions = tuple(
        FormQuestion(q.id, q.type, q.text, q.points, tuple(FormOption(o.id, o.text) for o in q.options), q.min_words)
        for q in spec.questions
    )
    return QuizForm(
        spec.course_id, spec.quiz_id, spec.title, spec.description, questions, rules_of(spec), spec.total_points
    )
