"""Questions from the grassroots: members ask at a moment of a lecture, the course's trainers answer.

* ``POST /api/lectures/{id}/questions``: anyone who may see the lecture asks, pinned to a moment.
* ``GET /api/lectures/{id}/questions``: what the caller may see of them, in the lecture's order.
* ``POST /api/questions/{id}/answer``: a trainer of the course answers (again, to edit or publish to all).
* ``POST /api/questions/{id}/hide``: a trainer of the course hides a question (or restores it).
* ``GET /api/questions/inbox``: a trainer's questions across their courses, unanswered and oldest first
  (``?hidden=true``: the hidden ones).
* ``GET /api/org-units/{unit}/questions/unanswered``: a secretary's or committee's unanswered questions
  within a unit of their oversight, oldest first with their age in days.

Who sees what is ``core.questions.can_see_question``, checked on every row. A lecture the caller may not
see is a 404, as everywhere. Fellow members and trainers see the asker's cell, not the asker's name. A hidden
question is seen by its asker (marked hidden, without the reason) and the course's trainers only.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from diemcau.adapters.db import questions as store
from diemcau.adapters.db import records
from diemcau.apps.api.pages.environment import clock
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.schemas.input_rules import AskedSeconds, RowId, UtcDateTime
from diemcau.core.orgtree import is_within
from diemcau.core.questions import (
    Question,
    QuestionError,
    Scope,
    Waiting,
    by_moment,
    can_see_question,
    inbox_order,
    is_course_trainer,
    may_moderate,
    may_see_asker,
    unanswered_by_age,
)
from diemcau.core.roles import Role, Viewer
from diemcau.i18n import t

router = APIRouter(tags=["questions"])
STATES = ("unanswered", "all")
Audiences = dict[str, tuple[str, ...]]  # course id → the org paths of its audience


class QuestionIn(BaseModel):
    moment: AskedSeconds = Field(description="Seconds from the start of the lecture.")
    text: str = Field(description="3 to 1000 characters once stripped.")
    client_id: str | None = Field(
        None,
        description="The device's id for this question (8 to 64 of A-Z a-z 0-9 - _, e.g. a UUID): a replayed post "
        "with the same id returns the question stored the first time (200) instead of storing it again (201). "
        "Unique per asker; optional for old clients.",
    )


class AnswerIn(BaseModel):
    text: str
    scope: str = Field("cell", description="cell: the asker's cell sees the answer; all: all who see the lecture.")


class HideIn(BaseModel):
    hidden: bool = Field(description="true: hide from everyone but the asker and the trainers; false: restore.")
    reason: str | None = Field(None, description="Why (optional, at most 200 characters); shown to trainers only.")


class QuestionOut(BaseModel):
    id: int
    lecture_id: str
    lecture_title: str
    course_id: str
    moment: float
    moment_label: str = Field(description="The moment as the player shows it (mm:ss).")
    text: str
    created_at: UtcDateTime
    mine: bool
    asker: str | None = Field(description="Card number: for the asker and those who oversee the asker's cell only.")
    asker_name: str | None
    unit_name: str = Field(description="The asker's cell when they asked.")
    answered: bool
    answer: str | None
    answered_at: UtcDateTime | None
    answered_by_name: str | None
    scope: str
    hidden: bool = Field(description="A trainer hid it: only its asker and the course's trainers see it.")
    hidden_reason: str | None = Field(description="Why it was hidden: for those who may hide it only.")


class WaitingOut(QuestionOut):
    age_days: int = Field(description="Whole days since it was asked.")


def _out(viewer: Viewer, q: Question, labels: store.Labels, moderator: bool) -> dict:
    named = may_see_asker(viewer, q)
    return dict(
        id=q.id,
        lecture_id=q.lecture_id,
        lecture_title=labels.lectures.get(q.lecture_id, ""),
        course_id=q.course_id,
        moment=q.moment,
        moment_label=clock(q.moment),
        text=q.text,
        created_at=q.created_at,
        mine=q.asker == viewer.username,
        asker=q.asker if named else None,
        asker_name=labels.names.get(q.asker) if named else None,
        unit_name=labels.units.get(q.asker_path, ""),
        answered=q.answered,
        answer=q.answer,
        answered_at=q.answered_at,
        answered_by_name=labels.names.get(q.answered_by or ""),
        scope=str(q.scope),
        hidden=q.hidden,
        hidden_reason=q.hidden_reason if moderator else None,
    )


def _outs(ctx: ApiContext, viewer: Viewer, found: list[Question], audiences: Audiences) -> list[QuestionOut]:
    """The questions as the API shows them to ``viewer``; ``audiences``: each course's audience paths."""
    labels = store.labels(ctx.factory, found)
    return [QuestionOut(**_out(viewer, q, labels, may_moderate(viewer, audiences[q.course_id]))) for q in found]


def _refused(error: QuestionError) -> HTTPException:
    status = 409 if error.code in ("not_playable", "client_id_reused") else 422
    return HTTPException(status, t(f"questions.{error.code}", **error.params))


def _audience(ctx: ApiContext, course_id: str) -> tuple[str, ...]:
    course = ctx.visibility.course_facts(course_id)
    return course.audience_paths if course else ()


def _ask(ctx: ApiContext, caller: Caller, lecture_id: str, body: QuestionIn, response: Response) -> QuestionOut:
    viewer = caller.viewer
    record = ctx.visibility.require_lecture(viewer, lecture_id)
    try:
        question, created = store.ask_once(
            ctx.factory,
            lecture_id=record.lecture_id,
            course_id=record.course_id,
            duration=record.duration_seconds,
            asker=viewer.username,
            asker_path=viewer.org_path or "/",
            moment=body.moment,
            text=body.text,
            client_id=body.client_id,
        )
    except QuestionError as error:
        raise _refused(error) from None
    if not created:
        response.status_code = 200  # a replay: the question stored the first time
    return _outs(ctx, viewer, [question], {record.course_id: record.audience_paths})[0]


@router.post(
    "/api/lectures/{lecture_id}/questions",
    response_model=QuestionOut,
    status_code=201,
    responses={
        200: {"description": "A replay: the question this client id stored before."},
        404: {"description": "Not visible."},
        409: {"description": "Not playable yet, or the client id was used on another lecture."},
        422: {},
    },
)
async def ask_question(
    lecture_id: str,
    body: QuestionIn,
    response: Response,
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> QuestionOut:
    """Ask a question at ``moment`` seconds of a lecture the caller may see; it goes to the course's trainers.
    A replay with the same ``client_id`` answers 200 with the question stored the first time."""
    return await run_in_threadpool(_ask, ctx, caller, lecture_id, body, response)


def _lecture_questions(ctx: ApiContext, caller: Caller, lecture_id: str) -> list[QuestionOut]:
    viewer = caller.viewer
    record = ctx.visibility.require_lecture(viewer, lecture_id)
    audience = record.audience_paths
    found = store.questions_of_lecture(ctx.factory, record.lecture_id, viewer, audience)
    visible = by_moment(q for q in found if can_see_question(viewer, q, audience))
    return _outs(ctx, viewer, visible, {record.course_id: audience})


@router.get(
    "/api/lectures/{lecture_id}/questions",
    response_model=list[QuestionOut],
    responses={404: {"description": "Not visible."}},
)
async def lecture_questions(
    lecture_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> list[QuestionOut]:
    """The questions of a lecture the caller may see (their own, their cell's answered ones, those published
    to all; everything for the course's trainers, the cell's for its secretary), by moment."""
    return await run_in_threadpool(_lecture_questions, ctx, caller, lecture_id)


def _trainers_question(ctx: ApiContext, viewer: Viewer, question_id: int) -> tuple[Question, tuple[str, ...]]:
    """The question and its course's audience, when ``viewer`` is one of its trainers; 404 when they may not
    see it, 403 when they see it but may not answer or hide it."""
    question = store.load_question(ctx.factory, question_id)
    audience = _audience(ctx, question.course_id) if question else ()
    if question is None or not can_see_question(viewer, question, audience):
        raise HTTPException(404, t("questions.not_found"))
    if not is_course_trainer(viewer, audience):
        raise HTTPException(403, t("questions.trainers_only"))
    return question, audience


def _changed_by_trainer(
    ctx: ApiContext, caller: Caller, question_id: int, change: Callable[[str], Question | None]
) -> QuestionOut:
    """Apply ``change`` (given the trainer's username) to a question of a course the caller trains, and answer
    the changed question as they see it; the store's refusals become 422 (or their own status)."""
    viewer = caller.viewer
    question, audience = _trainers_question(ctx, viewer, question_id)
    try:
        changed = change(viewer.username)
    except QuestionError as error:
        raise _refused(error) from None
    if changed is None:  # deleted in between (the course went away)
        raise HTTPException(404, t("questions.not_found"))
    return _outs(ctx, viewer, [changed], {question.course_id: audience})[0]


def _answer(ctx: ApiContext, caller: Caller, question_id: int, body: AnswerIn) -> QuestionOut:
    if body.scope not in (Scope.CELL, Scope.ALL):
        raise HTTPException(422, t("questions.bad_scope"))
    return _changed_by_trainer(
        ctx,
        caller,
        question_id,
        lambda by: store.answer(ctx.factory, question_id, text=body.text, scope=Scope(body.scope), by=by),
    )


@router.post(
    "/api/questions/{question_id}/answer",
    response_model=QuestionOut,
    responses={403: {}, 404: {"description": "No such question, or not visible."}, 422: {}},
)
async def answer_question(
    question_id: RowId, body: AnswerIn, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> QuestionOut:
    """Answer a question (trainers of its course): shown to the asker's cell, or to all with ``scope=all``."""
    return await run_in_threadpool(_answer, ctx, caller, question_id, body)


def _hide(ctx: ApiContext, caller: Caller, question_id: int, body: HideIn) -> QuestionOut:
    return _changed_by_trainer(
        ctx,
        caller,
        question_id,
        lambda by: store.hide(ctx.factory, question_id, hidden=body.hidden, reason=body.reason, by=by),
    )


@router.post(
    "/api/questions/{question_id}/hide",
    response_model=QuestionOut,
    responses={403: {}, 404: {"description": "No such question, or not visible."}, 422: {}},
)
async def hide_question(
    question_id: RowId, body: HideIn, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> QuestionOut:
    """Hide a question (trainers of its course): abusive, off-topic or a duplicate. Only its asker, told it was
    hidden, and the course's trainers still see it; it leaves the committees' unanswered lists. ``hidden=false``
    restores it."""
    return await run_in_threadpool(_hide, ctx, caller, question_id, body)


def _inbox(ctx: ApiContext, caller: Caller, course: str | None, state: str, hidden: bool) -> list[QuestionOut]:
    viewer = caller.viewer
    if not (viewer.has(Role.TRAINER) or viewer.is_admin):
        raise HTTPException(403, t("questions.inbox_trainers_only"))
    if state not in STATES:
        raise HTTPException(422, t("questions.bad_state"))
    courses = {
        c.course_id: c.audience_paths
        for c in ctx.visibility.known_courses().values()
        if is_course_trainer(viewer, c.audience_paths)
    }
    if course is not None:
        if course not in courses:
            raise HTTPException(404, t("api.course_not_found"))
        courses = {course: courses[course]}
    found = store.inbox(ctx.factory, courses, unanswered_only=state == "unanswered", hidden=hidden)
    visible = inbox_order(q for q in found if can_see_question(viewer, q, courses[q.course_id]))
    return _outs(ctx, viewer, visible, courses)


@router.get("/api/questions/inbox", response_model=list[QuestionOut], responses={403: {}, 404: {}, 422: {}})
async def question_inbox(
    course: str | None = Query(None, description="Narrow to one course."),
    state: str = Query("unanswered", description="unanswered (default) or all."),
    hidden: bool = Query(False, description="true: the hidden questions only; false (default): those not hidden."),
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> list[QuestionOut]:
    """A trainer's inbox: questions of the courses they answer for, unanswered first, the oldest on top."""
    return await run_in_threadpool(_inbox, ctx, caller, course, state, hidden)


def _waiting(ctx: ApiContext, caller: Caller, unit_code: str, course: str | None) -> list[WaitingOut]:
    viewer = caller.viewer
    oversight = viewer.oversight_paths()
    if not oversight:
        raise HTTPException(403, t("questions.oversight_only"))
    unit = records.load_org_unit(ctx.factory, unit_code)
    if unit is None or not any(is_within(unit.path, scope) for scope in oversight):
        raise HTTPException(404, t("questions.unknown_unit"))
    found = store.unanswered_under(ctx.factory, unit.path, course)
    audiences = {c: _audience(ctx, c) for c in {q.course_id for q in found}}
    visible = [q for q in found if can_see_question(viewer, q, audiences[q.course_id])]
    waiting: list[Waiting] = unanswered_by_age(visible, store.utcnow())
    labels = store.labels(ctx.factory, visible)
    return [
        WaitingOut(
            **_out(viewer, w.question, labels, may_moderate(viewer, audiences[w.question.course_id])),
            age_days=w.age_days,
        )
        for w in waiting
    ]


@router.get(
    "/api/org-units/{unit}/questions/unanswered",
    response_model=list[WaitingOut],
    responses={403: {}, 404: {"description": "Not a unit within your oversight."}},
)
async def unanswered_questions(
    unit: str,
    course: str | None = Query(None, description="Narrow to one course."),
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> list[WaitingOut]:
    """Unanswered questions asked within a unit (code) of the caller's oversight, oldest first, with their age."""
    return await run_in_threadpool(_waiting, ctx, caller, unit, course)
