"""The grading side of stored submissions, a batch at a time: what waits to be graded, and results written back.

A grading worker takes the submissions of one quiz that wait (``waiting_submissions``), grades them together, and
writes every result back in one transaction (``record_results``). A submission stays ``received`` until its
result is written, so a worker that dies mid-batch loses nothing: the rows are still waiting for the next one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.accounts import utcnow
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models_quiz import QuizSubmissionRow
from diemcau.adapters.db.quizzes import GRADED, RECEIVED, SubmissionRecord, query_with_member, record_of


@dataclass(frozen=True)
class GradedResult:
    """A submission's result as the gradebook holds it, to copy onto its row."""

    submission_id: str
    score: float
    max_score: float
    feedback: list[dict[str, Any]]


def waiting_submissions(
    factory: sessionmaker[Session], course_id: str, quiz_id: str, limit: int
) -> list[SubmissionRecord]:
    """Up to ``limit`` submissions of a quiz still waiting to be graded, oldest first."""
    query = (
        query_with_member()
        .where(
            QuizSubmissionRow.status == RECEIVED,
            QuizSubmissionRow.course_id == course_id,
            QuizSubmissionRow.quiz_id == quiz_id,
        )
        .order_by(QuizSubmissionRow.submitted_at, QuizSubmissionRow.id)
        .limit(limit)
    )
    with factory() as session:
        return [record_of(*found) for found in session.execute(query)]


def waiting_quizzes(
    factory: sessionmaker[Session], stored_before: dt.datetime | None = None
) -> dict[tuple[str, str], int]:
    """``(course, quiz) -> how many of its submissions wait to be graded``, optionally only those stored before an
    aware moment."""
    query = select(QuizSubmissionRow.course_id, QuizSubmissionRow.quiz_id, func.count()).where(
        QuizSubmissionRow.status == RECEIVED
    )
    if stored_before is not None:
        query = query.where(QuizSubmissionRow.submitted_at < stored_before.astimezone(dt.UTC).replace(tzinfo=None))
    query = query.group_by(QuizSubmissionRow.course_id, QuizSubmissionRow.quiz_id)
    with factory() as session:
        return {(course, quiz): count for course, quiz, count in session.execute(query)}


def record_results(factory: sessionmaker[Session], results: Sequence[GradedResult]) -> None:
    """Copy graded results from the gradebook onto their submissions, all in one transaction."""
    if not results:
        return
    now = utcnow()
    rows = [
        {
            "id": r.submission_id,
            "status": GRADED,
            "score": r.score,
            "max_score": r.max_score,
            "feedback": r.feedback,
            "graded_at": now,
            "grading_error": "",
        }
        for r in results
    ]
    with transaction(factory) as session:
        session.execute(update(QuizSubmissionRow), rows)  # an UPDATE by primary key, executed for all rows at once
