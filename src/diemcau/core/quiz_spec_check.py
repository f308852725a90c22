"""Validation of a quiz spec read from YAML into a ``QuizSpec``: every problem found, each placed by field path.

Pure: the adapter (``adapters.quiz_files``) reads the YAML and places problems on their lines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from diemcau.core.quiz_spec import (
    MAX_ATTEMPTS,
    MAX_OPTIONS,
    QUESTION_ID_PATTERN,
    QUIZ_ID_PATTERN,
    TRUE_WORDS,
    Counting,
    LatePolicy,
    Option,
    Path,
    Question,
    QuestionType,
    QuizSpec,
    QuizSpecError,
    SpecProblem,
    option_letter,
    to_moment,
)

QUIZ_FIELDS = frozenset(
    {"title", "description", "pass_mark", "attempts", "counts", "opens", "closes", "late", "shuffle", "questions"}
)
QUESTION_FIELDS = frozenset({"id", "type", "text", "points", "options", "answer", "accept_no_diacritics", "min_words"})


class _Checker:
    """Collects problems while reading a mapping; every ``get_*`` returns a usable default on error."""

    def __init__(self) -> None:
        self.problems: list[SpecProblem] = []

    def problem(self, path: Path, code: str, **params: object) -> None:
        self.problems.append(SpecProblem(path, code, params))

    def unknown_fields(self, data: Mapping[str, Any], known: frozenset[str], path: Path) -> None:
        for key in data:
            if key not in known:
                self.problem((*path, str(key)), "unknown_field", name=key, known=", ".join(sorted(known)))

    def text(self, data: Mapping[str, Any], key: str, path: Path, required: bool = True) -> str:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem((*path, key), "missing")
            return ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.problem((*path, key), "not_text")
            return ""
        return str(value).strip()

    def number(self, data: Mapping[str, Any], key: str, path: Path, default: float, low: float, high: float) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem((*path, key), "not_number")
            return default
        if not low <= value <= high:
            self.problem((*path, key), "out_of_range", low=_plain(low), high=_plain(high), value=value)
            return default
        return float(value)

    def flag(self, data: Mapping[str, Any], key: str, path: Path, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.problem((*path, key), "not_bool")
            return default
        return value

    def choice(self, data: Mapping[str, Any], key: str, path: Path, enum: type[StrEnum], default: StrEnum) -> Any:
        value = data.get(key, default.value)
        try:
            return enum(str(value).strip().lower())
        except ValueError:
            self.problem((*path, key), "not_one_of", value=value, known=", ".join(m.value for m in enum))
            return default

    def moment(self, data: Mapping[str, Any], key: str, end_of_day: bool) -> dt.datetime | None:
        value = data.get(key)
        if value is None:
            return None
        moment = to_moment(value, end_of_day)
        if moment is None:
            self.problem((key,), "bad_datetime", value=value)
        return moment


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _shuffle(check: _Checker, data: Mapping[str, Any]) -> tuple[bool, bool]:
    value = data.get("shuffle", False)
    if isinstance(value, bool):
        return value, value
    if isinstance(value, Mapping):
        check.unknown_fields(value, frozenset({"questions", "options"}), ("shuffle",))
        return check.flag(value, "questions", ("shuffle",), False), check.flag(value, "options", ("shuffle",), False)
    check.problem(("shuffle",), "bad_shuffle")
    return False, False


def _options(check: _Checker, data: Mapping[str, Any], path: Path) -> tuple[Option, ...]:
    raw = data.get("options")
    if not isinstance(raw, list) or len(raw) < 2:
        check.problem((*path, "options"), "too_few_options")
        return ()
    if len(raw) > MAX_OPTIONS:
        check.problem((*path, "options"), "too_many_options", most=MAX_OPTIONS)
        return ()
    options = []
    for index, text in enumerate(raw):
        if not isinstance(text, (str, int, float)) or isinstance(text, bool) or not str(text).strip():
            check.problem((*path, "options", index), "not_text")
        options.append(Option(option_letter(index), str(text).strip()))
    texts = [o.text.casefold() for o in options]
    for index, text in enumerate(texts):
        if text and text in texts[:index]:
            check.problem((*path, "options", index), "duplicate_option", text=options[index].text)
    return tuple(options)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _choice_answer(check: _Checker, q_type: QuestionType, raw: Any, options: tuple[Option, ...], path: Path):
    letters = [str(a).strip().upper() for a in _as_list(raw) if a is not None]
    known = [o.id for o in options]
    if not letters:
        check.problem(path, "missing")
        return ()
    for letter in letters:
        if options and letter not in known:
            check.problem(path, "answer_not_option", answer=letter, known=", ".join(known))
    if q_type == QuestionType.SINGLE and len(letters) != 1:
        check.problem(path, "single_needs_one")
    if len(set(letters)) != len(letters):
        check.problem(path, "duplicate_answer")
    return tuple(letters)


def _answer(check: _Checker, q_type: QuestionType, data: Mapping[str, Any], options, path: Path) -> tuple[str, ...]:
    raw, where = data.get("answer"), (*path, "answer")
    if q_type == QuestionType.ESSAY:
        if raw is not None:
            check.problem(where, "essay_has_no_answer")
        return ()
    if q_type.has_options:
        return _choice_answer(check, q_type, raw, options, where)
    if q_type == QuestionType.TRUE_FALSE:
        word = raw if isinstance(raw, bool) else TRUE_WORDS.get(str(raw).strip().lower())
        if not isinstance(word, bool):
            check.problem(where, "true_false_answer")
            return ()
        return ("true" if word else "false",)
    answers = [str(a).strip() for a in _as_list(raw) if a is not None and not isinstance(a, (bool, list, dict))]
    if not answers or not all(answers):
        check.problem(where, "short_needs_answer")
        return ()
    return tuple(answers)


def _question(check: _Checker, data: Any, index: int, seen: set[str]) -> Question | None:
    path: Path = ("questions", index)
    if not isinstance(data, Mapping):
        check.problem(path, "question_not_mapping")
        return None
    check.unknown_fields(data, QUESTION_FIELDS, path)
    q_id = str(data.get("id", f"q{index + 1}")).strip()
    if not QUESTION_ID_PATTERN.match(q_id):
        check.problem((*path, "id"), "bad_question_id", value=q_id)
    elif q_id in seen:
        check.problem((*path, "id"), "duplicate_question_id", value=q_id)
    seen.add(q_id)
    text = check.text(data, "text", path)
    if "type" not in data:
        check.problem((*path, "type"), "missing")
        return None
    before = len(check.problems)
    q_type = check.choice(data, "type", path, QuestionType, QuestionType.SINGLE)
    if len(check.problems) > before:
        return None  # the checks below depend on the type
    points = check.number(data, "points", path, 10.0 if q_type == QuestionType.ESSAY else 1.0, 0.01, 1000)
    options = _options(check, data, path) if q_type.has_options else ()
    if not q_type.has_options and "options" in data:
        check.problem((*path, "options"), "options_unexpected", type=q_type.value)
    answer = _answer(check, q_type, data, options, path)
    lenient = check.flag(data, "accept_no_diacritics", path, True)
    min_words = int(check.number(data, "min_words", path, 0, 0, 5000)) if q_type == QuestionType.ESSAY else 0
    return Question(q_id, q_type, text, points, options, answer, lenient, min_words)


def _questions(check: _Checker, data: Mapping[str, Any]) -> tuple[Question, ...]:
    raw = data.get("questions")
    if not isinstance(raw, list) or not raw:
        check.problem(("questions",), "no_questions")
        return ()
    seen: set[str] = set()
    questions = [_question(check, item, index, seen) for index, item in enumerate(raw)]
    return tuple(q for q in questions if q is not None)


def parse_quiz(data: Any, course_id: str, quiz_id: str) -> QuizSpec:
    """Validate a quiz spec read from ``courses/<course_id>/quizzes/<quiz_id>.yaml``; raises ``QuizSpecError``."""
    check = _Checker()
    if not QUIZ_ID_PATTERN.match(quiz_id):
        check.problem((), "bad_quiz_id", value=quiz_id)
    if not isinstance(data, Mapping):
        check.problem((), "not_mapping")
        raise QuizSpecError(check.problems)
    check.unknown_fields(data, QUIZ_FIELDS, ())
    title = check.text(data, "title", ())
    description = check.text(data, "description", (), required=False)
    pass_percent = check.number(data, "pass_mark", (), 50.0, 0, 100)
    attempts = int(check.number(data, "attempts", (), 1, 1, MAX_ATTEMPTS))
    if isinstance(data.get("attempts"), float) and not data["attempts"].is_integer():
        check.problem(("attempts",), "not_whole_number")
    counts = check.choice(data, "counts", (), Counting, Counting.BEST)
    late = check.choice(data, "late", (), LatePolicy, LatePolicy.ACCEPT)
    opens, closes = check.moment(data, "opens", False), check.moment(data, "closes", True)
    if opens and closes and closes <= opens:
        check.problem(("closes",), "closes_before_opens")
    shuffle_questions, shuffle_options = _shuffle(check, data)
    questions = _questions(check, data)
    spec = QuizSpec(
        course_id,
        quiz_id,
        title,
        questions,
        description,
        pass_percent,
        attempts,
        counts,
        opens,
        closes,
        late,
        shuffle_questions,
        shuffle_options,
    )
    if spec.has_essay and attempts > 1 and counts == Counting.BEST:
        check.problem(("counts",), "essay_counts_last")
    if check.problems:
        raise QuizSpecError(check.problems)
    return spec
