"""Questions from the grassroots: a member asks at a moment of a lecture; the course's trainers answer.

Who sees a question (``can_see_question``), given that they may already see its lecture:

* its asker, always (answered or not);
* members of the asker's cell (the cell the asker belonged to when asking), once it is answered;
* everyone, once a trainer has answered it and published it to all (``Scope.ALL``);
* the course's trainers (``is_course_trainer``), always: it is their inbox;
* a secretary or committee whose oversight covers the asker's cell, always (so unanswered questions
  can be chased up the tree); an admin everywhere.

A trainer of the course (``may_moderate``, the same rule as answering) may hide a question: abusive, off-topic
or a duplicate. A hidden question is then seen only by its asker (told that a trainer hid it) and the course's
trainers, who may restore it (``hidden_from``); it no longer waits for an answer (``unanswered_by_age``).

The rules are pure and are checked again on every record the database prefilters, so the SQL can never
widen what a viewer sees.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from diemcau.core.orgtree import is_within
from diemcau.core.roles import Role, Viewer

MIN_TEXT = 3
MAX_TEXT = 1000
MAX_ANSWER = 5000
MAX_REASON = 200
MAX_CLIENT_ID = 64
# A client id is what the player makes with crypto.randomUUID() (or a fallback of the same alphabet): letters,
# digits, '-' and '_', 8 to 64 characters. Nothing else reaches the database (no control characters, no padding).
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


class Scope(StrEnum):
    """Who an answer is shown to besides its asker: their cell, or everyone who sees the lecture."""

    CELL = "cell"
    ALL = "all"


class QuestionError(ValueError):
    """A question or answer that cannot be stored; ``code`` is a catalogue key under ``questions.``."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code, self.params = code, params


@dataclass(frozen=True)
class Question:
    """One question pinned to ``moment`` seconds of a lecture, with its answer once given."""

    id: int
    lecture_id: str
    course_id: str
    asker: str  # the asker's card number (hub username, lowercase)
    asker_path: str  # the org path of the asker's cell when they asked
    moment: float
    text: str
    created_at: dt.datetime
    answer: str | None = None
    answered_by: str | None = None
    answered_at: dt.datetime | None = None
    scope: Scope = Scope.CELL
    hidden_at: dt.datetime | None = None
    hidden_by: str | None = None  # the trainer who hid it
    hidden_reason: str | None = None  # for the trainers only

    @property
    def answered(self) -> bool:
        return self.answer is not None

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None


def clean_text(text: str) -> str:
    """The question's text stripped; ``QuestionError`` when shorter than 3 or longer than 1000 characters."""
    cleaned = (text or "").strip()
    if len(cleaned) < MIN_TEXT:
        raise QuestionError("text_too_short", min=MIN_TEXT)
    if len(cleaned) > MAX_TEXT:
        raise QuestionError("text_too_long", max=MAX_TEXT, length=len(cleaned))
    return cleaned


def clean_client_id(client_id: str | None) -> str | None:
    """The id a client gave a question so that a replay of the same post stores it once (``None``: an old client
    that gave none); ``QuestionError`` unless it is 8 to 64 of ``A-Z a-z 0-9 - _``. It is unique per asker only:
    another member's identical id is a different question, never a way to reach this one."""
    if client_id is None:
        return None
    if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
        raise QuestionError("bad_client_id", max=MAX_CLIENT_ID)
    return client_id


def check_moment(moment: float, duration: float | None) -> float:
    """The moment, when it lies within the lecture (0 to its duration); ``QuestionError`` otherwise."""
    if not duration or duration <= 0:
        raise QuestionError("not_playable")
    if not (moment == moment) or moment < 0 or moment > duration:  # NaN compares unequal to itself
        raise QuestionError("moment_outside", duration=round(duration))
    return float(moment)


def clean_answer(text: str) -> str:
    """The answer stripped; ``QuestionError`` when empty or longer than 5000 characters."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise QuestionError("answer_empty")
    if len(cleaned) > MAX_ANSWER:
        raise QuestionError("answer_too_long", max=MAX_ANSWER)
    return cleaned


def clean_reason(reason: str | None) -> str | None:
    """Why a question is hidden, stripped (``None`` when blank); ``QuestionError`` past 200 characters."""
    cleaned = (reason or "").strip()
    if len(cleaned) > MAX_REASON:
        raise QuestionError("reason_too_long", max=MAX_REASON)
    return cleaned or None


def _overlaps(scope: str | None, audience_paths: Sequence[str]) -> bool:
    if scope is None:
        return True
    return any(is_within(a, scope) or is_within(scope, a) for a in audience_paths)


def is_course_trainer(viewer: Viewer, audience_paths: Sequence[str]) -> bool:
    """Is ``viewer`` one of the trainers a course's questions go to?

    A trainer grant is scoped to an org subtree (``None``: everywhere); the course's trainers are those whose
    scope overlaps the course's audience (a provincial trainer answers the province's and its communes'
    courses). An admin counts as a trainer of every course.
    """
    if viewer.is_admin:
        return True
    return any(g.role == Role.TRAINER and _overlaps(g.scope_path, audience_paths) for g in viewer.grants)


def oversees(viewer: Viewer, org_path: str) -> bool:
    """Does a secretary, committee or admin grant of ``viewer`` cover the unit at ``org_path``?"""
    return any(is_within(org_path, scope) for scope in viewer.oversight_paths())


def may_moderate(viewer: Viewer, audience_paths: Sequence[str]) -> bool:
    """May ``viewer`` hide and restore the course's questions (and see why one was hidden)? Whoever answers
    them: the course's trainers and admins."""
    return is_course_trainer(viewer, audience_paths)


def hidden_from(viewer: Viewer, hidden: bool, asker: str, audience_paths: Sequence[str]) -> bool:
    """Does hiding keep a question from ``viewer``? Everyone but its asker and those who may restore it."""
    return hidden and asker != viewer.username and not may_moderate(viewer, audience_paths)


def can_see_question(viewer: Viewer, question: Question, audience_paths: Sequence[str]) -> bool:
    """May ``viewer`` (who may see the lecture) see this question? See the module docstring."""
    if question.asker == viewer.username:
        return True
    if is_course_trainer(viewer, audience_paths):
        return True
    if hidden_from(viewer, question.hidden, question.asker, audience_paths):
        return False
    if oversees(viewer, question.asker_path):
        return True
    if not question.answered:
        return False
    return question.scope == Scope.ALL or viewer.org_path == question.asker_path


def may_see_asker(viewer: Viewer, question: Question) -> bool:
    """May ``viewer`` see who asked? The asker themself and those who oversee the asker's cell; trainers
    and fellow members see the cell only (a question is about the lecture, not about the person)."""
    return question.asker == viewer.username or oversees(viewer, question.asker_path)


def by_moment(questions: Iterable[Question]) -> list[Question]:
    """Questions in the order of the lecture, then the order they were asked."""
    return sorted(questions, key=lambda q: (q.moment, q.created_at, q.id))


def inbox_order(questions: Iterable[Question]) -> list[Question]:
    """A trainer's inbox: unanswered first, oldest first (the longest waiting on top), then answered."""
    return sorted(questions, key=lambda q: (q.answered, q.created_at, q.id))


@dataclass(frozen=True)
class Waiting:
    """An unanswered question and how many whole days it has waited."""

    question: Question
    age_days: int


def unanswered_by_age(questions: Iterable[Question], now: dt.datetime) -> list[Waiting]:
    """The unanswered questions not hidden, oldest first, each with its age in whole days at ``now``."""
    waiting = [q for q in questions if not q.answered and not q.hidden]
    waiting.sort(key=lambda q: (q.created_at, q.id))
    return [Waiting(q, max(0, (now - q.created_at).days)) for q in waiting]


def counts_by_bucket(moments: Iterable[float], duration: float, buckets: int) -> list[int]:
    """How many questions fall in each of ``buckets`` equal stretches of the lecture (the end in the last)."""
    if duration <= 0 or buckets <= 0:
        return []
    counts = [0] * buckets
    for moment in moments:
        if 0 <= moment <= duration:
            counts[min(buckets - 1, int(moment / duration * buckets))] += 1
    return counts
