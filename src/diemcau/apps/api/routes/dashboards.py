"""Aggregates for the staff dashboards (``notebooks/committee.ipynb``, ``notebooks/lecture.ipynb``).

* ``GET /api/courses/{id}/completion/units?org=``: status counts per org unit down the tree, so a committee's
  page for a province receives one row per unit instead of one per member.
* ``GET /api/courses/{id}/completion/history?org=``: members who had watched every lecture, day by day.
* ``GET /api/lectures/{id}/analytics?buckets=``: the audience drop-off curve, the searches that found it, and
  per stretch the questions asked and how often it was watched again (``core.replays``), and the watching
  claimed faster than real time allows and refused (``core.progress.Pace``).

Completion aggregates follow the completion route's scope (secretary: cell, committee: subtree, admin: all;
members and trainers refused); lecture analytics are for those who manage content (trainers, admins) and
carry no member's name.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from diemcau.adapters.db import records
from diemcau.adapters.db.completion import CourseCompletion, course_completion
from diemcau.adapters.db.dashboards import top_search_terms, viewer_intervals, watching_days
from diemcau.adapters.db.lecture_reads import load_lecture
from diemcau.adapters.db.progress import load_refusals
from diemcau.adapters.db.questions import moments_of
from diemcau.adapters.db.replays import load_replays
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.routes.completion import completion_scopes
from diemcau.core.completion_tree import audience_curve, tally_units, watched_by_day
from diemcau.core.questions import counts_by_bucket
from diemcau.core.replays import most_replayed, rebucket
from diemcau.core.roles import Viewer, can_manage_content
from diemcau.i18n import t

router = APIRouter(tags=["dashboards"])
ORG_QUERY = Query(None, description="Org unit code within your oversight.")


class UnitCompletionOut(BaseModel):
    code: str
    name: str
    kind: str
    path: str
    depth: int
    total: int
    counts: dict[str, int] = Field(description="Members per status: not_started, in_progress, completed, overdue.")
    completed: int
    percent: float


class UnitsOut(BaseModel):
    course_id: str
    title: str
    deadline: dt.date | None
    units: list[UnitCompletionOut]


class HistoryPointOut(BaseModel):
    day: dt.date
    watched: int = Field(description="Members who had watched (or attended a screening of) every lecture by then.")


class HistoryOut(BaseModel):
    course_id: str
    deadline: dt.date | None
    total: int = Field(description="Enrolled active members within the scope today.")
    lectures: int
    points: list[HistoryPointOut]


class BucketOut(BaseModel):
    start: float
    end: float
    share: float = Field(description="Percent of viewers who watched the middle of this stretch.")
    questions: int = Field(0, description="Questions asked at a moment within this stretch.")
    replays: float = Field(0.0, description="Times this stretch was watched again (replayed seconds / its length).")


class ReplayedOut(BaseModel):
    start: float
    end: float
    times: float = Field(description="Times this 10 s stretch was watched again, by anyone.")


class TermOut(BaseModel):
    term: str
    count: int


class LectureAnalyticsOut(BaseModel):
    lecture_id: str
    title: str
    duration_seconds: float
    viewers: int = Field(description="Members who watched some of it online (screenings have no timeline).")
    buckets: list[BucketOut]
    top_terms: list[TermOut] = Field(description="Searches whose hits included this lecture, most frequent first.")
    questions: int = Field(0, description="Questions asked on this lecture.")
    most_replayed: list[ReplayedOut] = Field(default_factory=list, description="Stretches watched again most often.")
    refused_seconds: float = Field(
        0.0,
        description="Watched seconds claimed faster than real time allows since "
        "each member's first contact, and not counted (the server log names who).",
    )
    refused_posts: int = Field(0, description="Progress posts that had some of their claim refused.")


def _oversight(ctx: ApiContext, caller: Caller, course_id: str, org: str | None) -> list[str]:
    """The caller's scopes for a course's aggregates: 403 without oversight, 404 for a course they may not see."""
    scopes, only_self = completion_scopes(ctx, caller, org)
    if only_self:
        raise HTTPException(403, t("completion.not_allowed"))
    ctx.visibility.require_course(caller.viewer, course_id)
    return scopes


@router.get("/api/courses/{course_id}/completion/units", response_model=UnitsOut)
def completion_units(
    course_id: str,
    org: str | None = ORG_QUERY,
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> UnitsOut:
    """Status counts for each unit within your oversight (or ``org``), each member counted up the tree."""
    scopes = _oversight(ctx, caller, course_id, org)
    completion = course_completion(ctx.factory, course_id, scopes, ctx.today())
    if completion is None:
        raise HTTPException(404, t("api.course_not_found"))
    return UnitsOut(
        course_id=completion.course_id,
        title=completion.title,
        deadline=completion.deadline,
        units=unit_rows(ctx, scopes, completion),
    )


def unit_rows(ctx: ApiContext, scopes: list[str], completion: CourseCompletion) -> list[UnitCompletionOut]:
    """Status counts for each unit within ``scopes``, each member of ``completion`` counted up the tree (the
    units route's answer; the staff home's per-sub-unit summary too)."""
    units = records.load_org_units(ctx.factory, scopes)
    tallies = tally_units(units, ((m.unit.path, str(m.status)) for m in completion.members))
    return [
        UnitCompletionOut(
            code=x.unit.code,
            name=x.unit.name,
            kind=x.unit.kind,
            path=x.unit.path,
            depth=x.unit.depth,
            total=x.total,
            counts=dict(x.counts),
            completed=x.completed,
            percent=x.percent,
        )
        for x in tallies
    ]


@router.get("/api/courses/{course_id}/completion/history", response_model=HistoryOut)
def completion_history(
    course_id: str,
    org: str | None = ORG_QUERY,
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> HistoryOut:
    """Day by day, how many members within scope had watched every lecture (quizzes and essays not dated here)."""
    scopes = _oversight(ctx, caller, course_id, org)
    found = watching_days(ctx.factory, course_id, scopes)
    if found is None:
        raise HTTPException(404, t("api.course_not_found"))
    today = ctx.today()
    first = min([found.created, today, *(d for d in found.days if d is not None)])
    series = watched_by_day(found.days, first, today)
    return HistoryOut(
        course_id=course_id,
        deadline=found.deadline,
        total=len(found.days),
        lectures=len(found.lectures),
        points=[HistoryPointOut(day=day, watched=n) for day, n in series],
    )


def _analytics(ctx: ApiContext, viewer: Viewer, lecture_id: str, buckets: int) -> LectureAnalyticsOut:
    ctx.visibility.require_lecture(viewer, lecture_id)
    record = load_lecture(ctx.factory, lecture_id, pending=True)
    if record is None:
        raise HTTPException(404, t("media.lecture_not_found"))
    duration = record.duration_seconds or 0.0
    viewers, shares = audience_curve(viewer_intervals(ctx.factory, lecture_id), duration, buckets if duration else 0)
    width = duration / buckets if duration else 0.0
    moments, replayed = moments_of(ctx.factory, lecture_id), load_replays(ctx.factory, lecture_id)
    asked, again = counts_by_bucket(moments, duration, len(shares)), rebucket(replayed, duration, len(shares))
    refused_seconds, refused_posts = load_refusals(ctx.factory, lecture_id)
    stretches = [
        BucketOut(
            start=round(i * width, 1), end=round((i + 1) * width, 1), share=s, questions=asked[i], replays=again[i]
        )
        for i, s in enumerate(shares)
    ]
    return LectureAnalyticsOut(
        lecture_id=record.id,
        title=record.title,
        duration_seconds=duration,
        viewers=viewers,
        buckets=stretches,
        top_terms=[TermOut(term=term, count=n) for term, n in top_search_terms(ctx.factory, lecture_id)],
        questions=len(moments),
        most_replayed=[ReplayedOut(**vars(r)) for r in most_replayed(replayed, duration)],
        refused_seconds=refused_seconds,
        refused_posts=refused_posts,
    )


@router.get("/api/lectures/{lecture_id}/analytics", response_model=LectureAnalyticsOut)
async def lecture_analytics(
    lecture_id: str,
    buckets: int = Query(40, ge=1, le=500),
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> LectureAnalyticsOut:
    """For trainers and admins: per stretch the share of viewers who watched it, the questions asked and the
    times watched again; the most replayed stretches and the most searched terms."""
    if not can_manage_content(caller.viewer):
        raise HTTPException(403, t("api.forbidden"))
    return await run_in_threadpool(_analytics, ctx, caller.viewer, lecture_id, buckets)
