"""Quiz specs: what a trainer writes in ``courses/<course>/quizzes/<quiz>.yaml``, validated into dataclasses.

Pure rules only. An adapter reads the YAML into plain values (mappings, lists, scalars) and remembers the line
of each field; ``quiz_spec_check.parse_quiz`` validates those values into a :class:`QuizSpec`, or raises
:class:`QuizSpecError` listing every :class:`SpecProblem` found, each placed by its field path so the adapter
can name the file, the line and the field. Problems carry a message catalogue code (under ``quiz_spec.``),
because trainers read them.

Answers refer to options by letter: the first option is ``A``, the second ``B``, and so on, in the order the
spec lists them. Shuffling only changes the order a member sees; the letters stay with their options.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from diemcau.core.course import COURSE_ID_PATTERN

QUIZ_ID_PATTERN = COURSE_ID_PATTERN
QUESTION_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")  # trainers write Vietnamese wall-clock times
MAX_ATTEMPTS = 20
MAX_OPTIONS = 10
TRUE_WORDS = {"true": True, "đúng": True, "dung": True, "false": False, "sai": False}

Path = tuple[str | int, ...]


class QuestionType(StrEnum):
    SINGLE = "single"  # one option
    MULTIPLE = "multiple"  # every correct option, no wrong one
    TRUE_FALSE = "true_false"
    SHORT = "short"  # a short text, matched after normalisation (see core.quiz_answers)
    ESSAY = "essay"  # the bài thu hoạch, graded by hand

    @property
    def has_options(self) -> bool:
        return self in (QuestionType.SINGLE, QuestionType.MULTIPLE)

    @property
    def is_autograded(self) -> bool:
        return self != QuestionType.ESSAY


class Counting(StrEnum):
    BEST = "best"
    LAST = "last"


class LatePolicy(StrEnum):
    ACCEPT = "accept"  # kept, graded, marked late
    REFUSE = "refuse"


@dataclass(frozen=True)
class Option:
    """One choice of a single or multiple choice question; ``id`` is its letter (A, B, ...)."""

    id: str
    text: str


@dataclass(frozen=True)
class Question:
    """One question. ``answer`` holds option letters, ``("true",)``/``("false",)``, or accepted short answers."""

    id: str
    type: QuestionType
    text: str
    points: float = 1.0
    options: tuple[Option, ...] = ()
    answer: tuple[str, ...] = ()
    accept_no_diacritics: bool = True
    min_words: int = 0


@dataclass(frozen=True)
class QuizSpec:
    """A validated quiz. Times are timezone-aware; ``pass_percent`` is a share of ``total_points``."""

    course_id: str
    quiz_id: str
    title: str
    questions: tuple[Question, ...]
    description: str = ""
    pass_percent: float = 50.0
    attempts: int = 1
    counts: Counting = Counting.BEST
    opens: dt.datetime | None = None
    closes: dt.datetime | None = None
    late: LatePolicy = LatePolicy.ACCEPT
    shuffle_questions: bool = False
    shuffle_options: bool = False

    @property
    def total_points(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def has_essay(self) -> bool:
        return any(q.type == QuestionType.ESSAY for q in self.questions)


@dataclass(frozen=True)
class SpecProblem:
    """One thing wrong in a spec: where (field path), what (catalogue code) and the details."""

    path: Path
    code: str
    params: dict[str, object] = field(default_factory=dict, hash=False)


class QuizSpecError(Exception):
    """A spec cannot be used; ``problems`` lists every reason found."""

    def __init__(self, problems: Sequence[SpecProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{field_name(p.path)}: {p.code} {p.params}" for p in self.problems))


def field_name(path: Path) -> str:
    """A field path as trainers read it: ``questions[3].answer`` (questions counted from 1)."""
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(tệp)"


def option_letter(index: int) -> str:
    """The letter of the option at ``index`` (0 → A)."""
    return chr(ord("A") + index)


def to_moment(value: Any, end_of_day: bool = False) -> dt.datetime | None:
    """A date or date-time as written in a spec, as an aware datetime (Vietnam time unless an offset is given).

    A bare date opens at 00:00 and, for a closing time, closes at the end of that day.
    """
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            try:
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=VIETNAM)
    if isinstance(value, dt.date):
        clock = dt.time(23, 59, 59) if end_of_day else dt.time(0, 0)
        return dt.datetime.combine(value, clock, tzinfo=VIETNAM)
    return None
