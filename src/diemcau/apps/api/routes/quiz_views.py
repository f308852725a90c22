"""What the quiz routes and pages share: finding what a caller may see, and shaping it for them.

Visibility follows the course (``core.visibility``, asked through ``ctx.visibility``): a quiz of a course the
caller may not see is a 404, like a missing one. Taking a quiz needs enrolment; reading a submission follows
``can_read_member``; grading an essay needs ``core.quiz_rules.can_grade_essay`` (the member's secretary, or an admin).
"""

from __future__ import annotations

import datetime as dt

from fastapi import HTTPException

from diemcau.adapters.db import quizzes as store
from diemcau.apps.api.plumbing.access import Caller
from diemcau.apps.api.plumbing.context import ApiContext
from diemcau.apps.api.schemas.quizzes import FeedbackOut, OptionOut, QuestionOut, QuizOut, QuizSummaryOut, SubmissionOut
from diemcau.core.course import is_enrolled
from diemcau.core.quiz_form import QuizForm, presented
from diemcau.core.quiz_rules import AttemptScore, counted_attempt, has_passed, may_submit
from diemcau.core.roles import can_read_member
from diemcau.core.visibility import CourseFacts
from diemcau.i18n import t


def visible_course(ctx: ApiContext, caller: Caller, course_id: str) -> CourseFacts:
    """The course, or 404 when it is missing or hidden from the caller (``ctx.visibility``)."""
    return ctx.visibility.require_course(caller.viewer, course_id)


def visible_quiz(ctx: ApiContext, caller: Caller, course_id: str, quiz_id: str) -> tuple[CourseFacts, QuizForm]:
    """The course and the released quiz, or 404."""
    course = visible_course(ctx, caller, course_id)
    form = ctx.runtime.forms.get(course_id, quiz_id)
    if form is None:
        raise HTTPException(404, t("quiz.not_found"))
    return course, form


def enrolled(caller: Caller, course: CourseFacts) -> bool:
    """Must the caller study this course (and so may they take its quizzes)?"""
    return caller.viewer.org_path is not None and is_enrolled(caller.viewer.org_path, list(course.audience_paths))


def readable_submission(ctx: ApiContext, caller: Caller, submission_id: str) -> store.SubmissionRecord:
    """A submission the caller may read (their own, or within their oversight), or 404."""
    record = store.load_submission(ctx.factory, submission_id)
    if record is None or not can_read_member(caller.viewer, record.member, record.member_path):
        raise HTTPException(404, t("quiz.submission_not_found"))
    return record


def passed(record: store.SubmissionRecord, form: QuizForm) -> bool | None:
    """Whether a graded attempt reaches the pass mark; ``None`` until graded or while a human must still grade."""
    if record.status != store.GRADED or record.score is None or any(f.get("pending") for f in record.feedback):
        return None
    return has_passed(record.score, record.max_score or form.total_points, form.rules.pass_percent)


def submission_view(record: store.SubmissionRecord, form: QuizForm) -> SubmissionOut:
    """One attempt as the API shows it."""
    return SubmissionOut(
        id=record.id,
        course_id=record.course_id,
        quiz_id=record.quiz_id,
        member=record.member,
        member_name=record.member_name,
        attempt=record.attempt,
        submitted_at=record.submitted_at,
        late=record.late,
        status=record.status,
        score=record.score,
        max_score=record.max_score,
        passed=passed(record, form),
        feedback=[FeedbackOut(**f) for f in record.feedback],
        essay_category=record.essay_category,
        essay_comment=record.essay_comment,
    )


def counted_score(form: QuizForm, mine: list[store.SubmissionRecord]) -> float | None:
    """The score of the attempt that counts (best or last), once one is graded."""
    graded = [AttemptScore(r.attempt, r.score or 0.0) for r in mine if r.status == store.GRADED]
    counted = counted_attempt(form.rules.counts, graded)
    return None if counted is None else counted.score


def summary_view(form: QuizForm, mine: list[store.SubmissionRecord], is_enrolled: bool) -> QuizSummaryOut:
    """A quiz in a list, with the caller's own standing (``is_enrolled``: may the caller take it at all)."""
    return QuizSummaryOut(**_summary_fields(form, mine, is_enrolled))


def _summary_fields(form: QuizForm, mine: list[store.SubmissionRecord], is_enrolled: bool) -> dict:
    rules = form.rules
    return dict(
        course_id=form.course_id,
        quiz_id=form.quiz_id,
        title=form.title,
        opens=rules.opens,
        closes=rules.closes,
        attempts_allowed=rules.attempts,
        attempts_used=len(mine),
        counts=rules.counts.value,
        counted_score=counted_score(form, mine),
        max_score=form.total_points,
        pass_percent=rules.pass_percent,
        can_take=is_enrolled and may_submit(rules, dt.datetime.now(dt.UTC), len(mine)),
    )


def shuffle_seed(username: str, form: QuizForm, attempt: int) -> str:
    """What fixes the order one member sees in one attempt."""
    return f"{username}:{form.course_id}:{form.quiz_id}:{attempt}"


def quiz_view(ctx: ApiContext, caller: Caller, course: CourseFacts, form: QuizForm) -> QuizOut:
    """A quiz of ``course`` for the caller: questions in their order, their attempts and their draft."""
    username = caller.viewer.username
    mine = store.member_submissions(ctx.factory, username, form.course_id, form.quiz_id)
    questions = presented(form, shuffle_seed(username, form, len(mine) + 1))
    return QuizOut(
        **_summary_fields(form, mine, enrolled(caller, course)),
        description=form.description,
        questions=[
            QuestionOut(
                id=q.id,
                type=q.type.value,
                text=q.text,
                points=q.points,
                min_words=q.min_words,
                options=[OptionOut(id=o.id, text=o.text) for o in q.options],
            )
            for q in questions
        ],
        submissions=[submission_view(r, form) for r in mine],
        draft=store.load_draft(ctx.factory, username, form.course_id, form.quiz_id),
        essay_categories=list(ctx.settings.quiz.essay_categories),
    )
