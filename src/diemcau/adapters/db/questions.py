"""Storing questions and answers, and the reads behind the player, the trainers' inbox and the committees.

Reads prefilter in SQL (by lecture, course, or an org subtree as a path prefix, see ``core.orgtree``) and
the routes then apply ``core.questions.can_see_question`` to every row, so the SQL never widens visibility.
Hidden questions (moderation) stay in the table; the reads for members, committees and analytics leave them out.
Validation happens before any transaction opens: a refused question or answer writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from dataclasses import dataclass

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import LectureRow, MemberRow, OrgUnitRow
from diemcau.adapters.db.models_questions import LectureQuestionRow as Q
from diemcau.core import questions as rules
from diemcau.core.questions import (
    Question,
    QuestionError,
    Scope,
    check_moment,
    clean_answer,
    clean_client_id,
    clean_text,
    is_course_trainer,
)
from diemcau.core.roles import Viewer


def utcnow() -> dt.datetime:
    """Now, as naive UTC (the database stores naive UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _question(row: Q) -> Question:
    return Question(
        id=row.id,
        lecture_id=row.lecture_id,
        course_id=row.course_id,
        asker=row.asker,
        asker_path=row.asker_path,
        moment=row.moment,
        text=row.text,
        created_at=row.created_at,
        answer=row.answer,
        answered_by=row.answered_by,
        answered_at=row.answered_at,
        scope=Scope(row.scope),
        hidden_at=row.hidden_at,
        hidden_by=row.hidden_by,
        hidden_reason=row.hidden_reason,
    )


def ask(factory: sessionmaker[Session], **question: Any) -> Question:
    """``ask_once`` (same keywords) without whether this call stored it: a question at ``moment`` of a lecture;
    ``QuestionError`` (nothing written) for bad text or moment; with a ``client_id``, a replay returns the question
    stored the first time."""
    return ask_once(factory, **question)[0]


def _asked_before(session: Session, asker: str, client_id: str) -> Q | None:
    return session.scalars(select(Q).where(Q.asker == asker, Q.client_id == client_id)).one_or_none()


def _replayed(row: Q, lecture_id: str) -> Question:
    """The question a replay finds; the same id on another lecture is no replay (``client_id_reused``)."""
    if row.lecture_id != lecture_id:
        raise QuestionError("client_id_reused")
    return _question(row)


def ask_once(
    factory: sessionmaker[Session],
    *,
    lecture_id: str,
    course_id: str,
    duration: float | None,
    asker: str,
    asker_path: str,
    moment: float,
    text: str,
    now: dt.datetime | None = None,
    client_id: str | None = None,
) -> tuple[Question, bool]:
    """Store a question and say whether this call stored it (``False``: a replay).

    A question with a ``client_id`` (the asker's device made it) is stored once per asker: a replay of the post
    (the player's offline queue sending again after a lost answer) returns the question stored the first time,
    whatever its text, and writes nothing. Concurrent replays race on the unique key (asker, client id): the
    loser's insert fails and it reads the winner's row, on SQLite and PostgreSQL alike. ``QuestionError``
    (nothing written) for bad text, moment or client id, or a client id this asker used on another lecture.
    """
    cleaned, at, key = clean_text(text), check_moment(moment, duration), clean_client_id(client_id)
    try:
        with transaction(factory) as session:
            earlier = _asked_before(session, asker, key) if key is not None else None
            if earlier is not None:
                return _replayed(earlier, lecture_id), False
            row = Q(
                lecture_id=lecture_id,
                course_id=course_id,
                asker=asker,
                asker_path=asker_path,
                moment=at,
                text=cleaned,
                created_at=now or utcnow(),
                scope=str(Scope.CELL),
                client_id=key,
            )
            session.add(row)
            session.flush()
            return _question(row), True
    except IntegrityError:
        if key is None:
            raise
        with factory() as session:  # a concurrent replay stored it first
            earlier = _asked_before(session, asker, key)
            if earlier is None:
                raise
            return _replayed(earlier, lecture_id), False


def load_question(factory: sessionmaker[Session], question_id: int) -> Question | None:
    """One question, or ``None``."""
    with factory() as session:
        row = session.get(Q, question_id)
        return None if row is None else _question(row)


def answer(
    factory: sessionmaker[Session],
    question_id: int,
    *,
    text: str,
    scope: Scope,
    by: str,
    now: dt.datetime | None = None,
) -> Question | None:
    """Answer (or re-answer, e.g. to publish to all) a question; ``None`` when it does not exist.

    ``QuestionError`` (nothing written) for an empty answer. Authorization is the caller's business.
    """
    cleaned = clean_answer(text)
    with transaction(factory) as session:
        row = session.get(Q, question_id, with_for_update=True)
        if row is None:
            return None
        row.answer, row.answered_by, row.scope = cleaned, by, str(Scope(scope))
        row.answered_at = now or utcnow()
        return _question(row)


def hide(
    factory: sessionmaker[Session],
    question_id: int,
    *,
    hidden: bool,
    reason: str | None,
    by: str,
    now: dt.datetime | None = None,
) -> Question | None:
    """Hide a question (``hidden``) with an optional reason, or restore it; ``None`` when it does not exist.

    Restoring clears who hid it and why. ``QuestionError`` (nothing written) for a reason past 200 characters.
    Authorization is the caller's business.
    """
    cleaned = rules.clean_reason(reason) if hidden else None
    with transaction(factory) as session:
        row = session.get(Q, question_id, with_for_update=True)
        if row is None:
            return None
        row.hidden_at = (now or utcnow()) if hidden else None
        row.hidden_by, row.hidden_reason = (by, cleaned) if hidden else (None, None)
        return _question(row)


def _answered():  # type: ignore[no-untyped-def]
    return Q.answered_at.is_not(None)


def _viewer_filter(viewer: Viewer, audience_paths: Sequence[str]):  # type: ignore[no-untyped-def]
    """The SQL form of ``core.questions.can_see_question`` (a prefilter; the pure rule is applied after)."""
    if is_course_trainer(viewer, audience_paths):
        return None
    shown = Q.hidden_at.is_(None)  # hidden ones: their asker only, besides the trainers
    conditions = [and_(_answered(), Q.scope == str(Scope.ALL))]
    if viewer.org_path:
        conditions.append(and_(_answered(), Q.asker_path == viewer.org_path))
    conditions += [Q.asker_path.startswith(scope, autoescape=True) for scope in viewer.oversight_paths()]
    return or_(Q.asker == viewer.username, and_(shown, or_(false(), *conditions)))


def questions_of_lecture(
    factory: sessionmaker[Session], lecture_id: str, viewer: Viewer, audience_paths: Sequence[str]
) -> list[Question]:
    """The lecture's questions that may concern ``viewer`` (still to be checked with ``can_see_question``)."""
    query = select(Q).where(Q.lecture_id == lecture_id)
    condition = _viewer_filter(viewer, audience_paths)
    if condition is not None:
        query = query.where(condition)
    with factory() as session:
        return [_question(row) for row in session.scalars(query.order_by(Q.moment, Q.created_at, Q.id))]


def inbox(
    factory: sessionmaker[Session], course_ids: Iterable[str], *, unanswered_only: bool, hidden: bool = False
) -> list[Question]:
    """Questions of these courses (a trainer's), unanswered first and oldest first: those not hidden, or with
    ``hidden`` the hidden ones only."""
    query = select(Q).where(Q.course_id.in_(sorted(set(course_ids))))
    query = query.where(Q.hidden_at.is_not(None) if hidden else Q.hidden_at.is_(None))
    if unanswered_only:
        query = query.where(Q.answered_at.is_(None))
    query = query.order_by(Q.answered_at.is_not(None), Q.created_at, Q.id)
    with factory() as session:
        return [_question(row) for row in session.scalars(query)]


def unanswered_under(
    factory: sessionmaker[Session], org_path: str, course_id: str | None = None, limit: int = 500
) -> list[Question]:
    """Unanswered questions asked within the subtree at ``org_path`` and not hidden, oldest first."""
    query = select(Q).where(Q.answered_at.is_(None), Q.hidden_at.is_(None))
    query = query.where(Q.asker_path.startswith(org_path, autoescape=True))
    if course_id is not None:
        query = query.where(Q.course_id == course_id)
    with factory() as session:
        return [_question(row) for row in session.scalars(query.order_by(Q.created_at, Q.id).limit(limit))]


def moments_of(factory: sessionmaker[Session], lecture_id: str) -> list[float]:
    """The moment of every question asked on a lecture and not hidden (for analytics: counts only)."""
    with factory() as session:
        return list(session.scalars(select(Q.moment).where(Q.lecture_id == lecture_id, Q.hidden_at.is_(None))))


@dataclass(frozen=True)
class Labels:
    """Names to show with questions: members by card number, cells by org path, lectures by id."""

    names: dict[str, str]
    units: dict[str, str]
    lectures: dict[str, str]


def labels(factory: sessionmaker[Session], questions: Sequence[Question]) -> Labels:
    """The names of the askers and answerers, the askers' cells and the lectures of ``questions``."""
    if not questions:
        return Labels({}, {}, {})
    cards = sorted({q.asker for q in questions} | {q.answered_by for q in questions if q.answered_by})
    paths, lectures = sorted({q.asker_path for q in questions}), sorted({q.lecture_id for q in questions})
    card = func.lower(MemberRow.card_number)
    with factory() as session:
        names = session.execute(select(card, MemberRow.full_name).where(card.in_(cards)))
        units = session.execute(select(OrgUnitRow.path, OrgUnitRow.name).where(OrgUnitRow.path.in_(paths)))
        titles = session.execute(select(LectureRow.id, LectureRow.title).where(LectureRow.id.in_(lectures)))
        return Labels(dict(names.all()), dict(units.all()), dict(titles.all()))
