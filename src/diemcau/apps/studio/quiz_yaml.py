"""The quiz form's values ↔ the spec YAML that ``docs/quizzes.md`` describes. Pure; the API validates it.

The form keeps whatever the trainer typed; this module only shapes it (one option per line, answers by letter
or one accepted answer per line) and leaves every judgement — a missing title, an answer that is not an option
— to ``core.quiz_spec_check`` behind the API, so the rules live in one place. ``from_yaml`` goes back: a saved
spec becomes the form's values, naming the fields the form cannot hold (re-releasing from the form drops them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from diemcau.core.quiz_spec import TRUE_WORDS, field_name


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


# What the form holds; any other field of a saved spec is named as dropped when the form opens it.
FORM_QUIZ_FIELDS = frozenset(
    {"title", "description", "pass_mark", "attempts", "counts", "opens", "closes", "late", "shuffle", "questions"}
)
FORM_QUESTION_FIELDS = frozenset({"id", "type", "text", "points", "options", "answer", "min_words"})
QUESTION_TYPES = ("single", "multiple", "true_false", "short", "essay")


@dataclass(frozen=True)
class OpenedQuiz:
    """A saved spec as the form's values, and the fields (``questions[2].accept_no_diacritics``…) it dropped."""

    values: QuizValues
    dropped: tuple[str, ...] = ()


class _Dropped:
    """Collects the field paths the form cannot hold as they were written."""

    def __init__(self) -> None:
        self.paths: list[tuple[str | int, ...]] = []

    def add(self, *path: str | int) -> None:
        self.paths.append(path)

    def names(self) -> tuple[str, ...]:
        return tuple(field_name(p) for p in self.paths)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _number(value: Any, default: float) -> float | None:
    """``value`` as a number, ``default`` when absent, ``None`` when it is not one."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _day(value: Any) -> tuple[dt.date | None, bool]:
    """A saved opening/closing moment as the form's date, and whether that date says the same (no time of day)."""
    if value is None or value == "":
        return None, True
    if isinstance(value, dt.datetime):
        return value.date(), False
    if isinstance(value, dt.date):
        return value, True
    try:
        return dt.date.fromisoformat(str(value).strip()), True
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(str(value).strip()).date(), False
    except ValueError:
        return None, False


def _answer_text(q_type: str, raw: Any, dropped: _Dropped, path: tuple[str | int, ...]) -> str:
    """The answer as the form types it: letters "A, C", "đúng"/"sai", accepted answers one per line."""
    if raw is None or q_type == "essay":
        return ""
    if q_type in ("single", "multiple"):
        return ", ".join(_text(a) for a in _as_list(raw) if a is not None)
    if q_type == "true_false":
        word = raw if isinstance(raw, bool) else TRUE_WORDS.get(_text(raw).lower())
        if not isinstance(word, bool):
            dropped.add(*path, "answer")
            return "đúng"
        return "đúng" if word else "sai"
    return "\n".join(_text(a) for a in _as_list(raw) if a is not None)


def question_values(data: Mapping[str, Any], index: int, dropped: _Dropped) -> QuestionValues:
    """One saved question as the form's values (the form always has points: the spec's default when absent)."""
    path: tuple[str | int, ...] = ("questions", index)
    for key in sorted(set(data) - FORM_QUESTION_FIELDS, key=str):
        if not (key == "accept_no_diacritics" and data[key] is True):  # true is what the form writes anyway
            dropped.add(*path, key)
    q_type = _text(data.get("type")).lower()
    if q_type not in QUESTION_TYPES:
        dropped.add(*path, "type")
        q_type = "single"
    points = _number(data.get("points"), 10.0 if q_type == "essay" else 1.0)
    if points is None:
        dropped.add(*path, "points")
    options = "\n".join(_text(o) for o in _as_list(data.get("options"))) if data.get("options") is not None else ""
    min_words = _number(data.get("min_words"), 0) if q_type == "essay" else 0
    return QuestionValues(
        id=_text(data.get("id", f"q{index + 1}")),
        type=q_type,
        text=_text(data.get("text")),
        points=float(points) if points is not None else (10.0 if q_type == "essay" else 1.0),
        options=options if q_type in ("single", "multiple") else "",
        answer=_answer_text(q_type, data.get("answer"), dropped, path),
        min_words=int(min_words or 0),
    )


def _choice(data: Mapping[str, Any], key: str, known: tuple[str, ...], dropped: _Dropped) -> str:
    value = _text(data.get(key, known[0])).lower()
    if value in known:
        return value
    dropped.add(key)
    return known[0]


def _shuffle(value: Any, dropped: _Dropped) -> tuple[bool, bool]:
    if isinstance(value, bool):
        return value, value
    if value is None:
        return False, False
    if isinstance(value, Mapping) and all(isinstance(value.get(k, False), bool) for k in ("questions", "options")):
        return value.get("questions", False), value.get("options", False)
    dropped.add("shuffle")
    return False, False


def _whole(data: Mapping[str, Any], key: str, default: int, dropped: _Dropped) -> int:
    """A count or percent the form holds as a whole number."""
    value = _number(data.get(key), default)
    if value is None or not float(value).is_integer():
        dropped.add(key)
        return default if value is None else round(value)
    return int(value)


def quiz_values(data: Mapping[str, Any]) -> OpenedQuiz:
    """A saved spec's mapping as the form's values — the inverse of ``quiz_spec`` for every form it writes."""
    dropped = _Dropped()
    for key in sorted(set(data) - FORM_QUIZ_FIELDS, key=str):
        dropped.add(key)
    opens, exact_opens = _day(data.get("opens"))
    closes, exact_closes = _day(data.get("closes"))
    for key, exact in (("opens", exact_opens), ("closes", exact_closes)):
        if not exact:
            dropped.add(key)
    shuffle_questions, shuffle_options = _shuffle(data.get("shuffle"), dropped)
    raw_questions = data.get("questions")
    questions = []
    for index, question in enumerate(raw_questions if isinstance(raw_questions, list) else []):
        if isinstance(question, Mapping):
            questions.append(question_values(question, index, dropped))
        else:
            dropped.add("questions", index)
    values = QuizValues(
        title=_text(data.get("title")),
        description=_text(data.get("description")),
        pass_mark=_whole(data, "pass_mark", 50, dropped),
        attempts=_whole(data, "attempts", 1, dropped),
        counts=_choice(data, "counts", ("best", "last"), dropped),
        late=_choice(data, "late", ("accept", "refuse"), dropped),
        opens=opens,
        closes=closes,
        shuffle_questions=shuffle_questions,
        shuffle_options=shuffle_options,
        questions=tuple(questions),
    )
    return OpenedQuiz(values, dropped.names())


def from_yaml(text: str) -> OpenedQuiz:
    """A saved spec's YAML text as the form's values; ``ValueError`` when it is not a YAML mapping."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not YAML: {exc}") from None
    if isinstance(data, Mapping):
        return quiz_values(data)
    raise ValueError("the spec is not a mapping")
