"""A quiz's results per member: the score nbgrader's gradebook holds, with attempts, lateness and essay grade."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import quizzes as store
from diemcau.adapters.nbgrader.course_dir import gradebook_url
from diemcau.core.quiz_rules import has_passed
from diemcau.quizzes.grading import counted_submission
from diemcau.settings import Settings


@dataclass(frozen=True)
class MemberResult:
    """One member's standing in a quiz. ``score`` is the gradebook's (``None`` before any attempt is graded)."""

    member: str
    name: str
    attempts: int
    counted_attempt: int | None
    score: float | None
    max_score: float
    passed: bool | None
    late: bool
    essay_category: str | None
    pending: int  # attempts stored but not graded yet

    def to_dict(self) -> dict:
        return asdict(self)


def gradebook_scores(settings: Settings, course_id: str, quiz_id: str) -> dict[str, tuple[float, float]]:
    """``{student: (score, max_score)}`` for a quiz, read through nbgrader's own ``Gradebook``."""
    with Gradebook(gradebook_url(settings, course_id), course_id) as gradebook:
        try:
            assignment = gradebook.find_assignment(quiz_id)
        except MissingEntry:
            return {}
        return {s.student_id: (s.score, s.max_score) for s in assignment.submissions}


def quiz_results(
    settings: Settings, factory: sessionmaker[Session], course_id: str, quiz_id: str
) -> list[MemberResult]:
    """Every member who submitted, by card number (raises ``LookupError`` for a quiz never released)."""
    form = store.load_form(factory, course_id, quiz_id)
    if form is None:
        raise LookupError(f"quiz {course_id}/{quiz_id} is not released")
    scores = gradebook_scores(settings, course_id, quiz_id)
    by_member: dict[str, list[store.SubmissionRecord]] = {}
    for record in store.quiz_submissions(factory, course_id, quiz_id):
        by_member.setdefault(record.member, []).append(record)
    results = []
    for member, attempts in sorted(by_member.items()):
        counted = counted_submission(factory, form, member)
        score, max_score = scores.get(member, (None, form.total_points))
        pending_essay = counted is not None and any(f.get("pending") for f in counted.feedback)
        passed = None if score is None or pending_essay else has_passed(score, max_score, form.rules.pass_percent)
        results.append(
            MemberResult(
                member,
                attempts[0].member_name,
                len(attempts),
                counted and counted.attempt,
                score,
                max_score,
                passed,
                bool(counted and counted.late),
                counted and counted.essay_category,
                sum(1 for a in attempts if a.status == store.RECEIVED),
            )
        )
    return results
