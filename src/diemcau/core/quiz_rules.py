"""The rules of taking a quiz: the window, the attempts, lateness, which attempt counts, and shuffling.

Pure functions over the values the API has in hand (the released quiz's rules, the member's earlier attempts,
the clock), so each rule is tested without a server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from diemcau.core.orgtree import is_within
from diemcau.core.quiz_spec import Counting, LatePolicy, QuizSpec
from diemcau.core.roles import Role, Viewer


@dataclass(frozen=True)
class QuizRules:
    """What the API enforces for one released quiz (times aware, or ``None`` for no limit)."""

    pass_percent: float = 50.0
    attempts: int = 1
    counts: Counting = Counting.BEST
    opens: dt.datetime | None = None
    closes: dt.datetime | None = None
    late: LatePolicy = LatePolicy.ACCEPT
    shuffle_questions: bool = False
    shuffle_options: bool = False


def rules_of(spec: QuizSpec) -> QuizRules:
    """The rules part of a spec."""
    return QuizRules(
        spec.pass_percent,
        spec.attempts,
        spec.counts,
        spec.opens,
        spec.closes,
        spec.late,
        spec.shuffle_questions,
        spec.shuffle_options,
    )


def rules_to_dict(rules: QuizRules) -> dict[str, Any]:
    """Rules as JSON (times in ISO 8601 with their offset)."""
    return {
        "pass_percent": rules.pass_percent,
        "attempts": rules.attempts,
        "counts": rules.counts.value,
        "opens": rules.opens and rules.opens.isoformat(),
        "closes": rules.closes and rules.closes.isoformat(),
        "late": rules.late.value,
        "shuffle_questions": rules.shuffle_questions,
        "shuffle_options": rules.shuffle_options,
    }


def rules_from_dict(data: dict[str, Any]) -> QuizRules:
    """The inverse of :func:`rules_to_dict`."""
    moment = lambda v: dt.datetime.fromisoformat(v) if v else None  # noqa: E731
    return QuizRules(
        float(data["pass_percent"]),
        int(data["attempts"]),
        Counting(data["counts"]),
        moment(data.get("opens")),
        moment(data.get("closes")),
        LatePolicy(data["late"]),
        bool(data.get("shuffle_questions")),
        bool(data.get("shuffle_options")),
    )


class SubmissionRefused(Exception):
    """A submission the rules refuse; ``code`` is a catalogue key under ``quiz.``."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code, self.params = code, params


@dataclass(frozen=True)
class Admission:
    """A submission the rules accept: its attempt number and whether it is late."""

    attempt: int
    late: bool


def admit(rules: QuizRules, now: dt.datetime, attempts_used: int) -> Admission:
    """Accept the next attempt at ``now`` or raise ``SubmissionRefused`` (not open yet, closed, none left)."""
    if rules.opens is not None and now < rules.opens:
        raise SubmissionRefused("not_open")
    late = rules.closes is not None and now > rules.closes
    if late and rules.late == LatePolicy.REFUSE:
        raise SubmissionRefused("closed")
    if attempts_used >= rules.attempts:
        raise SubmissionRefused("no_attempts_left", attempts=rules.attempts)
    return Admission(attempts_used + 1, late)


def may_submit(rules: QuizRules, now: dt.datetime, attempts_used: int) -> bool:
    """Would ``admit`` accept the next attempt at ``now``? (What the quiz page and a device storing the quiz for
    offline study ask; the submission itself is judged again by ``admit`` when it arrives.)"""
    try:
        admit(rules, now, attempts_used)
    except SubmissionRefused:
        return False
    return True


@dataclass(frozen=True)
class AttemptScore:
    """One graded attempt, as choosing the counted one needs it."""

    attempt: int
    score: float


def counted_attempt(counts: Counting, graded: Sequence[AttemptScore]) -> AttemptScore | None:
    """The attempt that counts: the best score (earliest on a tie) or the last attempt; ``None`` before any."""
    if not graded:
        return None
    if counts == Counting.LAST:
        return max(graded, key=lambda a: a.attempt)
    return max(graded, key=lambda a: (a.score, -a.attempt))


def has_passed(score: float, max_score: float, pass_percent: float) -> bool:
    """Is ``score`` at or above the pass mark (a percentage of ``max_score``)?"""
    return max_score > 0 and score * 100 >= pass_percent * max_score - 1e-9


def shuffled(items: Sequence[Any], seed: str) -> list[Any]:
    """``items`` in an order fixed by ``seed`` (the same member, quiz and attempt always see the same order)."""
    order = list(items)
    random.Random(hashlib.sha256(seed.encode()).digest()).shuffle(order)
    return order


def can_grade_essay(viewer: Viewer, member_org_path: str) -> bool:
    """May ``viewer`` grade this member's bài thu hoạch: the secretary of a unit above the member, or an admin?"""
    scopes = [g.scope_path or "/" for g in viewer.grants if g.role in (Role.SECRETARY, Role.ADMIN)]
    return any(is_within(member_org_path, scope) for scope in scopes)
