"""Released quizzes, submissions and drafts in the application database.

A submission is committed here, durably, before anything grades it; its attempt number and lateness are
decided by ``core.quiz_rules.admit`` inside the same transaction, and two unique constraints (client id,
attempt number) keep a replay or a race from ever creating a second row.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, false, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.accounts import utcnow
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import MemberRow, OrgUnitRow
from diemcau.adapters.db.models_quiz import QuizDraftRow, QuizRow, QuizSubmissionRow
from diemcau.core.quiz_form import QuizForm, form_from_dict, form_to_dict
from diemcau.core.quiz_rules import admit

RECEIVED, GRADED, FAILED = "received", "graded", "failed"


@dataclass(frozen=True)
class SubmissionRecord:
    """One stored attempt, with its member and, once graded, its result."""

    id: str
    course_id: str
    quiz_id: str
    member: str  # card number, lowercase: the hub username and nbgrader's student id
    member_name: str
    member_path: str
    attempt: int
    client_id: str
    answers: dict[str, Any]
    submitted_at: dt.datetime  # aware, UTC
    late: bool
    status: str
    score: float | None = None
    max_score: float | None = None
    feedback: tuple[dict[str, Any], ...] = ()
    grading_error: str = ""
    essay_category: str | None = None
    essay_comment: str | None = None
    essay_graded_by: str | None = None


def _naive_utc(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(dt.UTC).replace(tzinfo=None)


def card_spellings(username: str) -> set[str]:
    """How a hub username's card may be stored: the roster stores cards upper-cased (``core.roster``), tests and
    older rows may not. Matching these exact spellings uses the unique index, where ``lower(card) = ?`` would
    read every member of the province on each submission."""
    card = "".join(username.split())
    return {card, card.upper(), card.lower()}


@dataclass(frozen=True)
class _Member:
    id: int
    card: str
    name: str
    path: str


def _member(session: Session, username: str) -> _Member | None:
    found = session.execute(
        select(MemberRow.id, MemberRow.card_number, MemberRow.full_name, OrgUnitRow.path)
        .join(OrgUnitRow, OrgUnitRow.id == MemberRow.org_unit_id)
        .where(MemberRow.card_number.in_(card_spellings(username)))
    ).first()
    return None if found is None else _Member(found[0], found[1].lower(), found[2], found[3])


def record_of(row: QuizSubmissionRow, member: MemberRow | _Member, path: str | None = None) -> SubmissionRecord:
    """A submission row as a record, with its member (and the member's org unit path)."""
    if isinstance(member, MemberRow):
        member = _Member(member.id, member.card_number.lower(), member.full_name, path or member.org_unit.path)
    return SubmissionRecord(
        row.id,
        row.course_id,
        row.quiz_id,
        member.card,
        member.name,
        member.path,
        row.attempt,
        row.client_id,
        dict(row.answers),
        row.submitted_at.replace(tzinfo=dt.UTC),
        row.late,
        row.status,
        row.score,
        row.max_score,
        tuple(row.feedback or ()),
        row.grading_error,
        row.essay_category,
        row.essay_comment,
        row.essay_graded_by,
    )


def save_release(factory: sessionmaker[Session], form: QuizForm) -> None:
    """Record a released quiz (or its new release): what members see and when it opens and closes."""
    with transaction(factory) as session:
        row = session.get(QuizRow, (form.course_id, form.quiz_id)) or QuizRow(
            course_id=form.course_id, quiz_id=form.quiz_id
        )
        row.title, row.form = form.title, form_to_dict(form)
        row.opens_at, row.closes_at = _naive_utc(form.rules.opens), _naive_utc(form.rules.closes)
        row.released_at = utcnow()
        session.add(row)


def load_form(factory: sessionmaker[Session], course_id: str, quiz_id: str) -> QuizForm | None:
    """The released form of a quiz, or ``None`` (read now; ``ReleasedForms`` keeps them for the API's hot path)."""
    where = (QuizRow.course_id == course_id, QuizRow.quiz_id == quiz_id)
    with factory() as session:
        stored = session.scalar(select(QuizRow.form).where(*where))
        return None if stored is None else form_from_dict(stored)


FORM_RECHECK_SECONDS = 2.0


class ReleasedForms:
    """The released forms of one database, kept parsed by the app that owns this (the API's ``ApiRuntime``):
    every submission needs its form. A kept form is trusted for ``recheck_seconds``; after that one small read of
    its release time says whether it still holds, so a quiz released again is seen within that many seconds (at
    once where ``forget`` is called: the process that released it). A quiz not released is looked up every time.
    Thread-safe: single dict operations; two threads missing together both read, harmlessly."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        recheck_seconds: float = FORM_RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._factory, self._recheck, self._clock = factory, recheck_seconds, clock
        self._kept: dict[tuple[str, str], tuple[dt.datetime, float, QuizForm]] = {}

    def get(self, course_id: str, quiz_id: str) -> QuizForm | None:
        """The released form, from memory when recently checked."""
        key, now = (course_id, quiz_id), self._clock()
        kept = self._kept.get(key)
        if kept is not None and now - kept[1] < self._recheck:
            return kept[2]
        where = (QuizRow.course_id == course_id, QuizRow.quiz_id == quiz_id)
        with self._factory() as session:
            released_at = session.scalar(select(QuizRow.released_at).where(*where))
            if released_at is None:
                self._kept.pop(key, None)
                return None
            form = kept[2] if kept is not None and kept[0] == released_at else None
            if form is None:
                form = form_from_dict(session.scalar(select(QuizRow.form).where(*where)))
        self._kept[key] = (released_at, now, form)
        return form

    def forget(self, course_id: str, quiz_id: str) -> None:
        """Drop the kept form (after a release here): the next lookup reads it."""
        self._kept.pop((course_id, quiz_id), None)

    def clear(self) -> None:
        """Drop every kept form."""
        self._kept.clear()


def list_forms(factory: sessionmaker[Session], course_ids: list[str]) -> list[QuizForm]:
    """The released quizzes of these courses, by course then quiz id."""
    query = select(QuizRow).where(QuizRow.course_id.in_(course_ids)).order_by(QuizRow.course_id, QuizRow.quiz_id)
    with factory() as session:
        return [form_from_dict(row.form) for row in session.scalars(query)]


# Built once: constructing a statement costs more than running it, and this one runs on every submission.
_MEMBER_AND_ATTEMPTS = (
    select(
        MemberRow.id,
        MemberRow.card_number,
        MemberRow.full_name,
        OrgUnitRow.path,
        QuizSubmissionRow.client_id,
        QuizSubmissionRow.id,
    )
    .join(OrgUnitRow, OrgUnitRow.id == MemberRow.org_unit_id)
    .outerjoin(
        QuizSubmissionRow,
        and_(
            QuizSubmissionRow.member_id == MemberRow.id,
            QuizSubmissionRow.course_id == bindparam("course_id"),
            QuizSubmissionRow.quiz_id == bindparam("quiz_id"),
        ),
    )
    .where(MemberRow.card_number.in_(bindparam("cards", expanding=True)))
)
_INSERT_SUBMISSION = insert(QuizSubmissionRow.__table__)


def _member_and_attempts(
    session: Session, username: str, form: QuizForm
) -> tuple[_Member | None, list[tuple[str, str]]]:
    """The member and their earlier attempts at the quiz ``(client id, submission id)``, in one query."""
    found = session.execute(
        _MEMBER_AND_ATTEMPTS,
        {"course_id": form.course_id, "quiz_id": form.quiz_id, "cards": sorted(card_spellings(username))},
    ).all()
    if not found:
        return None, []
    first = found[0]
    member = _Member(first[0], first[1].lower(), first[2], first[3])
    return member, [(row[4], row[5]) for row in found if row[0] == member.id and row[5] is not None]


def _store_once(
    factory: sessionmaker[Session],
    username: str,
    form: QuizForm,
    client_id: str,
    answers: Mapping[str, Any],
    now: dt.datetime,
) -> tuple[SubmissionRecord, bool]:
    with transaction(factory) as session:
        member, earlier = _member_and_attempts(session, username, form)
        if member is None:
            raise LookupError(username)
        replayed = next((row_id for known, row_id in earlier if known == client_id), None)
        if replayed is not None:
            return record_of(session.get(QuizSubmissionRow, replayed), member), False
        admission = admit(form.rules, now, len(earlier))  # raises SubmissionRefused
        record = SubmissionRecord(
            uuid.uuid4().hex,
            form.course_id,
            form.quiz_id,
            member.card,
            member.name,
            member.path,
            admission.attempt,
            client_id,
            dict(answers),
            now.astimezone(dt.UTC),
            admission.late,
            RECEIVED,
        )
        session.execute(
            _INSERT_SUBMISSION,
            {
                "id": record.id,
                "course_id": record.course_id,
                "quiz_id": record.quiz_id,
                "member_id": member.id,
                "client_id": client_id,
                "attempt": record.attempt,
                "answers": record.answers,
                "submitted_at": _naive_utc(now),
                "late": record.late,
                "status": RECEIVED,
                "grading_error": "",
            },
        )
        # The draft is spent: the next attempt starts from an empty form, not from the answers just sent.
        session.execute(
            delete(QuizDraftRow).where(
                QuizDraftRow.member_id == member.id,
                QuizDraftRow.course_id == form.course_id,
                QuizDraftRow.quiz_id == form.quiz_id,
            )
        )
        return record, True


def store_submission(
    factory: sessionmaker[Session],
    username: str,
    form: QuizForm,
    client_id: str,
    answers: Mapping[str, Any],
    now: dt.datetime,
) -> tuple[SubmissionRecord, bool]:
    """Store an attempt durably (committed on return); ``(record, created)``. A known ``client_id`` is a replay:
    the stored attempt comes back with ``created`` false. Raises ``SubmissionRefused`` when the rules say no."""
    for _ in range(3):
        try:
            return _store_once(factory, username, form, client_id, answers, now)
        except IntegrityError:
            continue  # a concurrent replay or attempt won the race: look again
    return _store_once(factory, username, form, client_id, answers, now)


def query_with_member():  # type: ignore[no-untyped-def]
    """``(submission row, member row, org unit path)`` rows, for ``record_of``; callers add the conditions."""
    return (
        select(QuizSubmissionRow, MemberRow, OrgUnitRow.path)
        .join(MemberRow, MemberRow.id == QuizSubmissionRow.member_id)
        .join(OrgUnitRow, OrgUnitRow.id == MemberRow.org_unit_id)
    )


def load_submission(factory: sessionmaker[Session], submission_id: str) -> SubmissionRecord | None:
    """One submission by id, or ``None``."""
    with factory() as session:
        found = session.execute(query_with_member().where(QuizSubmissionRow.id == submission_id)).first()
        return None if found is None else record_of(*found)


def member_submissions(
    factory: sessionmaker[Session], username: str, course_id: str, quiz_id: str
) -> list[SubmissionRecord]:
    """A member's attempts at a quiz, first attempt first."""
    query = (
        query_with_member()
        .where(
            MemberRow.card_number.in_(card_spellings(username)),
            QuizSubmissionRow.course_id == course_id,
            QuizSubmissionRow.quiz_id == quiz_id,
        )
        .order_by(QuizSubmissionRow.attempt)
    )
    with factory() as session:
        return [record_of(*found) for found in session.execute(query)]


def quiz_submissions(
    factory: sessionmaker[Session], course_id: str, quiz_id: str, within: list[str] | None = None
) -> list[SubmissionRecord]:
    """Every attempt at a quiz, optionally only of members within these org subtrees, by member then attempt."""
    query = query_with_member().where(QuizSubmissionRow.course_id == course_id, QuizSubmissionRow.quiz_id == quiz_id)
    if within is not None:
        query = query.where(or_(false(), *(OrgUnitRow.path.startswith(p, autoescape=True) for p in within)))
    query = query.order_by(MemberRow.card_number, QuizSubmissionRow.attempt)
    with factory() as session:
        return [record_of(*found) for found in session.execute(query)]


def ungraded_ids(factory: sessionmaker[Session], stored_before: dt.datetime | None = None) -> list[str]:
    """Submissions stored but not graded (optionally only those stored before an aware moment), oldest first."""
    query = select(QuizSubmissionRow.id).where(QuizSubmissionRow.status == RECEIVED)
    if stored_before is not None:
        query = query.where(QuizSubmissionRow.submitted_at < _naive_utc(stored_before))
    with factory() as session:
        return list(session.scalars(query.order_by(QuizSubmissionRow.submitted_at)))


def record_result(
    factory: sessionmaker[Session],
    submission_id: str,
    score: float,
    max_score: float,
    feedback: list[dict[str, Any]],
) -> None:
    """Copy a graded result from the gradebook onto its submission."""
    with transaction(factory) as session:
        row = session.get(QuizSubmissionRow, submission_id)
        row.status, row.score, row.max_score, row.feedback = GRADED, score, max_score, feedback
        row.graded_at, row.grading_error = utcnow(), ""


def record_failure(factory: sessionmaker[Session], submission_id: str, error: str) -> None:
    """Mark a submission that could not be graded, with nbgrader's reason (for the operator)."""
    with transaction(factory) as session:
        row = session.get(QuizSubmissionRow, submission_id)
        row.status, row.grading_error = FAILED, error[:2000]


def record_essay_grade(
    factory: sessionmaker[Session], submission_id: str, category: str, comment: str, grader: str
) -> None:
    """A secretary's grade of the essay of one attempt."""
    with transaction(factory) as session:
        row = session.get(QuizSubmissionRow, submission_id)
        row.essay_category, row.essay_comment = category, comment
        row.essay_graded_by, row.essay_graded_at = grader, utcnow()


def save_draft(factory: sessionmaker[Session], username: str, form: QuizForm, answers: Mapping[str, Any]) -> None:
    """Keep a member's unsent answers (the last save wins)."""
    with transaction(factory) as session:
        member = _member(session, username)
        key = (member.id, form.course_id, form.quiz_id)
        row = session.get(QuizDraftRow, key) or QuizDraftRow(
            member_id=member.id, course_id=form.course_id, quiz_id=form.quiz_id
        )
        row.answers, row.updated_at = dict(answers), utcnow()
        session.add(row)


def load_draft(factory: sessionmaker[Session], username: str, course_id: str, quiz_id: str) -> dict[str, Any]:
    """A member's saved draft answers (empty when none)."""
    with factory() as session:
        member = _member(session, username)
        row = None if member is None else session.get(QuizDraftRow, (member.id, course_id, quiz_id))
        return {} if row is None else dict(row.answers)
