"""``/api/lectures/{id}/progress``: the player's events in, coverage and resume position out.

A member posts only their own progress: the member is the caller, never a parameter. Coverage is clamped
to the lecture's duration, and events are idempotent by their client id, so an offline queue can replay.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from diemcau.adapters.db.progress import MAX_EVENTS_PER_POST, load_progress, record_events
from diemcau.apps.api.access import Caller, current_caller
from diemcau.apps.api.context import ApiContext, context_of
from diemcau.apps.api.lectures import _visible_lecture
from diemcau.core.progress import EventKind, Progress, ProgressEvent
from diemcau.i18n import t

router = APIRouter(tags=["progress"])


class EventIn(BaseModel):
    event_id: str = Field(min_length=1, max_length=64)
    kind: Literal["heartbeat", "seek", "ended"]
    start: float = Field(ge=0, le=86_400)
    end: float = Field(ge=0, le=86_400)
    seq: int = Field(0, ge=0)


class EventsIn(BaseModel):
    events: list[EventIn] = Field(max_length=MAX_EVENTS_PER_POST)


class ProgressOut(BaseModel):
    coverage_percent: float
    resume_position: float
    watched_seconds: float

    @classmethod
    def of(cls, progress: Progress) -> ProgressOut:
        return cls(coverage_percent=progress.coverage_percent, resume_position=progress.resume_position,
                   watched_seconds=progress.watched_seconds)  # fmt: skip


def _duration(ctx: ApiContext, caller: Caller, lecture_id: str) -> float:
    record = _visible_lecture(ctx, caller.viewer, lecture_id)
    if not record.duration_seconds:
        raise HTTPException(409, t("progress.not_playable"))
    return record.duration_seconds


@router.post("/api/lectures/{lecture_id}/progress", response_model=ProgressOut)
async def post_progress(
    lecture_id: str, body: EventsIn, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> ProgressOut:
    """Record the caller's player events for a lecture they may watch; returns the merged progress."""
    duration = await run_in_threadpool(_duration, ctx, caller, lecture_id)
    events = [ProgressEvent(e.event_id, EventKind(e.kind), e.start, e.end, e.seq) for e in body.events]
    progress = await run_in_threadpool(record_events, ctx.factory, caller.viewer.username, lecture_id, duration, events)
    return ProgressOut.of(progress)


@router.get("/api/lectures/{lecture_id}/progress", response_model=ProgressOut)
async def get_progress(
    lecture_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> ProgressOut:
    """The caller's own progress on a lecture (where to resume)."""
    await run_in_threadpool(_duration, ctx, caller, lecture_id)
    return ProgressOut.of(await run_in_threadpool(load_progress, ctx.factory, caller.viewer.username, lecture_id))
