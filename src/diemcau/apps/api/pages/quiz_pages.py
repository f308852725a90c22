"""Quiz pages of the member portal: a course's quizzes, taking a quiz, and a secretary's essay grading view.

Plain server-rendered HTML like the portal (a few kilobytes, inline CSS), plus a few lines of vanilla
JavaScript on the quiz page (``static/quiz.js``; the grading view's is ``static/quiz_grading.js``: no inline script,
for the Content-Security-Policy): answers autosave to the phone (localStorage) and, as a draft, to the server, and a
submission that fails on a dropped connection is sent again, with the same client id, until it gets through.
The browser sends writes with the ``X-Diemcau-Request`` header, which lets the service cookie authenticate them
(``identity.py``); a cross-site form cannot set that header.
"""

from __future__ import annotations

import datetime as dt
import functools

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import HTMLResponse

from diemcau.adapters.db import quizzes as store
from diemcau.apps.api.pages.assets import asset_url
from diemcau.apps.api.pages.environment import render_message
from diemcau.apps.api.pages.links import logout_href
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.routes.quiz_views import (
    enrolled,
    passed,
    quiz_view,
    summary_view,
    visible_course,
    visible_quiz,
)
from diemcau.core.quiz_rules import can_grade_essay
from diemcau.core.roles import Role
from diemcau.i18n import t
from diemcau.quizzes.grading import counted_submissions

router = APIRouter(tags=["quiz pages"])
QUIZ_JS, GRADING_JS = "quiz.js", "quiz_grading.js"  # static/: the pages carry no inline script (headers.py)


def _render(ctx: ApiContext, template: str, **values: object) -> HTMLResponse:
    return HTMLResponse(ctx.runtime.pages.get_template(template).render(**values))


def as_page(route):  # type: ignore[no-untyped-def]
    """A page route whose refusals (404, 403) are pages too, not JSON."""

    @functools.wraps(route)
    def page(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return route(*args, **kwargs)
        except HTTPException as exc:
            ctx = kwargs["ctx"]
            html = render_message(ctx.runtime.pages, str(exc.detail), logout_href(ctx.prefix), f"{ctx.prefix}/")
            return HTMLResponse(html, exc.status_code)

    return page


def window_state(opens: dt.datetime | None, closes: dt.datetime | None, late_accepted: bool) -> str:
    """``not_open``, ``open``, ``late`` (closed, late work accepted) or ``closed``."""
    now = dt.datetime.now(dt.UTC)
    if opens is not None and now < opens:
        return "not_open"
    if closes is not None and now > closes:
        return "late" if late_accepted else "closed"
    return "open"


@router.get("/quizzes/{course_id}", response_class=HTMLResponse)
@as_page
def course_quizzes_page(
    course_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> HTMLResponse:
    """The quizzes of one course, with the member's standing in each (HTML)."""
    course = visible_course(ctx, caller, course_id)
    user = caller.viewer.username
    quizzes = [
        summary_view(f, store.member_submissions(ctx.factory, user, f.course_id, f.quiz_id), enrolled(caller, course))
        for f in store.list_forms(ctx.factory, [course_id])
    ]
    can_grade = caller.viewer.has(Role.SECRETARY) or caller.viewer.is_admin
    return _render(ctx, "quiz_list.html", course=course, quizzes=quizzes, can_grade=can_grade, prefix=ctx.prefix)


@router.get("/quizzes/{course_id}/{quiz_id}", response_class=HTMLResponse)
@as_page
def quiz_page(
    course_id: str, quiz_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> HTMLResponse:
    """Take a quiz (HTML): the form, or why it cannot be taken, and the member's results so far."""
    course, form = visible_quiz(ctx, caller, course_id, quiz_id)
    quiz = quiz_view(ctx, caller, course, form)
    state = window_state(form.rules.opens, form.rules.closes, form.rules.late.value == "accept")
    return _render(
        ctx,
        "quiz.html",
        quiz=quiz,
        state=state,
        can_take=quiz.can_take,
        enrolled=enrolled(caller, course),
        member=caller.viewer.username,
        prefix=ctx.prefix,
        submissions=list(reversed(quiz.submissions)),
        labels={q.id: q.text for q in form.questions},
        quiz_js=asset_url(ctx.settings, ctx.prefix, QUIZ_JS),
    )


@router.get("/quizzes/{course_id}/{quiz_id}/grading", response_class=HTMLResponse)
@as_page
def grading_page(
    course_id: str, quiz_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> HTMLResponse:
    """A secretary's view (HTML): the counted attempt of each member of their cell, essay and grade form."""
    _course, form = visible_quiz(ctx, caller, course_id, quiz_id)
    viewer = caller.viewer
    scopes = [g.scope_path or "/" for g in viewer.grants if g.role in (Role.SECRETARY, Role.ADMIN)]
    if not scopes:
        raise HTTPException(403, t("quiz.not_your_cell"))
    counted = sorted(counted_submissions(ctx.factory, form, scopes), key=lambda record: record.member)
    rows = [(record, passed(record, form)) for record in counted if can_grade_essay(viewer, record.member_path)]
    essays = [q for q in form.questions if q.type.value == "essay"]
    return _render(
        ctx,
        "quiz_grading.html",
        form=form,
        rows=rows,
        essays=essays,
        prefix=ctx.prefix,
        categories=list(ctx.settings.quiz.essay_categories),
        grading_js=asset_url(ctx.settings, ctx.prefix, GRADING_JS),
    )
