"""Quiz routes: the API is nbgrader's exchange. Members fetch the form, save drafts and submit; staff read.

A submission is validated against the released form, stored durably (``adapters.db.quizzes``), and only then
queued for grading (``jobs.quiz_tasks``); ``?wait=`` lets a client on a weak link get its grade in the same
round trip. Every rule — only for yourself, enrolled, within the window and the attempts, replays idempotent —
is checked here, never in the browser.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from starlette.concurrency import run_in_threadpool

from diemcau.adapters.db import quizzes as store
from diemcau.apps.api.plumbing.access import Caller, api_context, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.schemas.quizzes import DraftIn, EssayGradeIn, QuizOut, QuizSummaryOut, SubmissionIn, SubmissionOut
from diemcau.apps.api.routes.quiz_views import (
    enrolled,
    quiz_view,
    readable_submission,
    submission_view,
    summary_view,
    visible_course,
    visible_quiz,
)
from diemcau.core.quiz_form import AnswerError, clean_answers
from diemcau.core.quiz_rules import SubmissionRefused, can_grade_essay
from diemcau.core.roles import can_read_member
from diemcau.i18n import t
from diemcau.jobs.quiz_tasks import enqueue_grading
from diemcau.quizzes.grading import EssayGradeError, Graders, grade_essay

router = APIRouter(tags=["quizzes"])
_NOT_VISIBLE = {404: {"description": "No such course or quiz, or not visible to the caller."}}
POLL_SECONDS = 0.05


@router.get("/api/quizzes/{course_id}", response_model=list[QuizSummaryOut], responses=_NOT_VISIBLE)
def list_quizzes(
    course_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> list[QuizSummaryOut]:
    """The released quizzes of a course, with the caller's own attempts and counted score."""
    course = visible_course(ctx, caller, course_id)
    forms = store.list_forms(ctx.factory, [course_id])
    user, taker = caller.viewer.username, enrolled(caller, course)
    return [summary_view(f, store.member_submissions(ctx.factory, user, f.course_id, f.quiz_id), taker) for f in forms]


@router.get("/api/quizzes/{course_id}/{quiz_id}", response_model=QuizOut, responses=_NOT_VISIBLE)
def read_quiz(
    course_id: str, quiz_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> QuizOut:
    """A quiz as the caller sees it: questions (no keys) in their order, their attempts, their draft."""
    course, form = visible_quiz(ctx, caller, course_id, quiz_id)
    return quiz_view(ctx, caller, course, form)


def _taker(ctx: ApiContext, caller: Caller, course_id: str, quiz_id: str):  # type: ignore[no-untyped-def]
    course, form = visible_quiz(ctx, caller, course_id, quiz_id)
    if not enrolled(caller, course):
        raise HTTPException(403, t("quiz.not_enrolled"))
    return form


def _clean(form, answers):  # type: ignore[no-untyped-def]
    try:
        return clean_answers(form, answers)
    except AnswerError as exc:
        raise HTTPException(422, t(f"quiz.{exc.code}", question=exc.question_id)) from None


@router.put("/api/quizzes/{course_id}/{quiz_id}/draft", status_code=204, responses={403: {}, **_NOT_VISIBLE, 422: {}})
def save_draft(
    course_id: str,
    quiz_id: str,
    body: DraftIn,
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> Response:
    """Keep the caller's unsent answers (the page saves them as the member types)."""
    form = _taker(ctx, caller, course_id, quiz_id)
    store.save_draft(ctx.factory, caller.viewer.username, form, _clean(form, body.answers))
    return Response(status_code=204)


def _store(ctx: ApiContext, caller: Caller, course_id: str, quiz_id: str, body: SubmissionIn):  # type: ignore[no-untyped-def]
    if body.member is not None and body.member.strip().lower() != caller.viewer.username:
        raise HTTPException(403, t("quiz.only_yourself"))
    form = _taker(ctx, caller, course_id, quiz_id)
    answers = _clean(form, body.answers)
    try:
        record, created = store.store_submission(
            ctx.factory, caller.viewer.username, form, body.client_id, answers, dt.datetime.now(dt.UTC)
        )
    except SubmissionRefused as exc:
        raise HTTPException(409, t(f"quiz.{exc.code}", **exc.params)) from None
    if created:
        enqueue_grading(ctx.settings, record.course_id, record.quiz_id)
    return form, record, created


async def _wait_for_grade(ctx: ApiContext, record: store.SubmissionRecord, seconds: float) -> store.SubmissionRecord:
    deadline = time.monotonic() + seconds
    while record.status == store.RECEIVED and time.monotonic() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        record = await run_in_threadpool(store.load_submission, ctx.factory, record.id)
    return record


@router.post(
    "/api/quizzes/{course_id}/{quiz_id}/submissions",
    response_model=SubmissionOut,
    status_code=201,
    responses={
        200: {"description": "A replay: the attempt stored earlier."},
        403: {},
        **_NOT_VISIBLE,
        409: {},
        422: {},
    },
)
async def submit(
    course_id: str,
    quiz_id: str,
    body: SubmissionIn,
    response: Response,
    wait: float = Query(0, ge=0, le=30, description="Seconds to wait for the grade before answering."),
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(api_context),
) -> SubmissionOut:
    """Submit an attempt for oneself: stored first, then graded on the queue. 201 new, 200 replayed."""
    form, record, created = await run_in_threadpool(_store, ctx, caller, course_id, quiz_id, body)
    if wait:
        record = await _wait_for_grade(ctx, record, wait)
    response.status_code = 201 if created else 200
    return submission_view(record, form)


@router.get(
    "/api/quizzes/{course_id}/{quiz_id}/submissions", response_model=list[SubmissionOut], responses=_NOT_VISIBLE
)
def list_submissions(
    course_id: str, quiz_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> list[SubmissionOut]:
    """Attempts the caller may read: their own, their cell's (secretary), their subtree's (committee), all (admin)."""
    _course, form = visible_quiz(ctx, caller, course_id, quiz_id)
    viewer, scopes = caller.viewer, caller.viewer.oversight_paths()
    if scopes:
        own = [viewer.org_path] if viewer.org_path else []
        records = store.quiz_submissions(ctx.factory, course_id, quiz_id, within=scopes + own)
    else:
        records = store.member_submissions(ctx.factory, viewer.username, course_id, quiz_id)
    return [submission_view(r, form) for r in records if can_read_member(viewer, r.member, r.member_path)]


def _form_of(ctx: ApiContext, record: store.SubmissionRecord):  # type: ignore[no-untyped-def]
    form = ctx.runtime.forms.get(record.course_id, record.quiz_id)
    if form is None:
        raise HTTPException(404, t("quiz.not_found"))
    return form


@router.get("/api/quiz-submissions/{submission_id}", response_model=SubmissionOut, responses=_NOT_VISIBLE)
def read_submission(
    submission_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> SubmissionOut:
    """One attempt with its grade and feedback (the page polls this while grading)."""
    record = readable_submission(ctx, caller, submission_id)
    return submission_view(record, _form_of(ctx, record))


@router.post(
    "/api/quiz-submissions/{submission_id}/essay-grade",
    response_model=SubmissionOut,
    responses={403: {}, **_NOT_VISIBLE, 409: {}, 422: {}},
)
def grade_submission_essay(
    submission_id: str,
    body: EssayGradeIn,
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> SubmissionOut:
    """Grade the bài thu hoạch of an attempt: the secretary of the member's cell (or an admin) only."""
    record = readable_submission(ctx, caller, submission_id)
    if not can_grade_essay(caller.viewer, record.member_path):
        raise HTTPException(403, t("quiz.not_your_cell"))
    if body.category not in ctx.settings.quiz.essay_categories:
        known = ", ".join(ctx.settings.quiz.essay_categories)
        raise HTTPException(422, t("quiz.unknown_category", known=known))
    try:
        with Graders(ctx.settings) as graders:  # a human's grade now and then: a grader for this call
            comment, grader = body.comment.strip(), caller.viewer.username
            graded = grade_essay(graders, ctx.factory, record, body.category, comment, grader)
    except EssayGradeError as exc:
        raise HTTPException(409, t(f"quiz.{exc.code}")) from None
    return submission_view(graded, _form_of(ctx, graded))
