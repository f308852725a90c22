"""``/api/lectures/{id}/progress``: the player's events in, coverage and resume position out.

A member posts only their own progress: the member is the caller, never a parameter. Coverage is clamped
to the lecture's duration, and events are idempotent by their client id, so an offline queue can replay.
Coverage grows no faster than real time allows since the member's first contact with the lecture
(``core.progress.Pace``, measured at receipt): the rest of a claim is refused, logged and counted.

This is the hottest route (every playing member, every heartbeat), so: the lecture's visibility facts are read
from its one course and kept in the app's visibility cache (``ctx.visibility``, ``perf.lecture_seconds``), and
the events of concurrent requests are written in one shared transaction (``adapters.db.group_commit``), a batch
in a few statements — each answered after the commit that stored its events, so an acknowledged event survives
the process being killed.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from diemcau.adapters.db.progress import MAX_EVENTS_PER_POST, EventsPost, load_progress, record_post, record_posts_in
from diemcau.apps.api.plumbing.access import Caller, api_context, current_caller
from diemcau.apps.api.plumbing.context import ApiContext
from diemcau.apps.api.schemas.input_rules import Count, MediaSeconds
from diemcau.core.progress import EventKind, Pace, Progress, ProgressEvent
from diemcau.core.roles import Viewer
from diemcau.i18n import t

router = APIRouter(tags=["progress"])


class EventIn(BaseModel):
    event_id: str = Field(min_length=1, max_length=64)
    kind: Literal["heartbeat", "seek", "ended"]
    start: MediaSeconds
    end: MediaSeconds
    seq: Count = 0


class EventsIn(BaseModel):
    events: list[EventIn] = Field(max_length=MAX_EVENTS_PER_POST)


class ProgressOut(BaseModel):
    coverage_percent: float
    resume_position: float
    watched_seconds: float

    @classmethod
    def of(cls, progress: Progress) -> ProgressOut:
        return cls(
            coverage_percent=progress.coverage_percent,
            resume_position=progress.resume_position,
            watched_seconds=progress.watched_seconds,
        )


def _playable_duration(ctx: ApiContext, viewer: Viewer, lecture_id: str) -> float:
    """The lecture's duration, if ``viewer`` may watch it (else 404, as for a lecture that does not exist); 409
    for one a content manager sees that cannot be played yet (a publish under way)."""
    lecture = ctx.visibility.require_lecture(viewer, lecture_id)
    if not lecture.duration_seconds:
        raise HTTPException(409, t("progress.not_playable"))
    return lecture.duration_seconds


async def _duration(ctx: ApiContext, caller: Caller, lecture_id: str) -> float:
    if ctx.visibility.lecture_facts(lecture_id, load=False) is not None:  # kept: no read, no thread hop
        return _playable_duration(ctx, caller.viewer, lecture_id)
    return await run_in_threadpool(_playable_duration, ctx, caller.viewer, lecture_id)


async def _record(ctx: ApiContext, post: EventsPost) -> Progress:
    if not ctx.settings.perf.group_commit:
        return await run_in_threadpool(record_post, ctx.factory, post)
    return await asyncio.wrap_future(ctx.runtime.writer.submit_item(record_posts_in, post))


async def ingest(ctx: ApiContext, caller: Caller, lecture_id: str, body: EventsIn) -> ProgressOut:
    """Record the caller's events on a lecture they may watch, answering after the commit that stored them.

    The one body of ``POST …/progress``, shared by the FastAPI route and ``progress_fast_path`` so they cannot
    drift; refusals are ``HTTPException`` (404 / 409). The real-time bound is taken at receipt, so a queue
    replayed after a wait in the group writer, or hours later from offline, is judged by when it arrived."""
    received_at = ctx.now()
    duration = await _duration(ctx, caller, lecture_id)
    events = [ProgressEvent(e.event_id, EventKind(e.kind), e.start, e.end, e.seq) for e in body.events]
    pace = Pace.for_heartbeat(ctx.settings.player.heartbeat_seconds, duration)
    post = EventsPost(caller.viewer.username, lecture_id, duration, events, received_at, pace)
    return ProgressOut.of(await _record(ctx, post))


# With ``settings.perf.fast_progress`` on, ``progress_fast_path.ProgressFastPath`` answers these posts first
# (the same helpers, the same answers); this route still describes them (OpenAPI) and serves them otherwise.
@router.post("/api/lectures/{lecture_id}/progress", response_model=ProgressOut)
async def post_progress(
    lecture_id: str, body: EventsIn, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(api_context)
) -> ProgressOut:
    """Record the caller's player events for a lecture they may watch; returns the merged progress."""
    return await ingest(ctx, caller, lecture_id, body)


@router.get("/api/lectures/{lecture_id}/progress", response_model=ProgressOut)
async def get_progress(
    lecture_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(api_context)
) -> ProgressOut:
    """The caller's own progress on a lecture (where to resume)."""
    await _duration(ctx, caller, lecture_id)
    return ProgressOut.of(await run_in_threadpool(load_progress, ctx.factory, caller.viewer.username, lecture_id))
