"""Search route: ``GET /api/search?q=&course=&limit=`` over every published transcript and document.

Results are limited to the courses the caller may see (``core.roles.can_see_course``: members their own
courses, secretaries and committees also those of their units, trainers and admins all). Any ``q`` is
accepted — the query parser disarms it — and an empty one returns no hits. Snippets are HTML with matched
words in ``<mark>``, escaped so a transcript cannot inject markup; ``link`` opens the player at the hit.

The router's lifespan closes the app's index when the service stops. A trainer's correction through the API
is searchable as soon as it is saved: the corrections route calls ``search.content.content_changed`` with
this index.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from diemcau.adapters.db.dashboards import record_search_terms
from diemcau.apps.api import records
from diemcau.apps.api.access import Caller, current_caller
from diemcau.apps.api.context import ApiContext, context_of
from diemcau.core.roles import Viewer, can_manage_content, can_see_course
from diemcau.search.index import MAX_LIMIT, SearchFilters, SearchIndex
from diemcau.search.indexer import open_index

_opening = threading.Lock()


class SearchHitOut(BaseModel):
    """One hit: a stretch of a lecture (or a document page) with its highlighted snippet and a deep link."""

    model_config = ConfigDict(frozen=True)
    lecture_id: str
    title: str
    course_id: str
    kind: str = Field(description="'spoken' (transcript) or 'document' (attached material).")
    start: float | None = Field(description="Seconds from the lecture's start (spoken hits).")
    end: float | None
    text: str = Field(description="The segment text, plain (escape it before showing it as HTML).")
    snippet: str = Field(description="HTML: the text escaped, matched words in <mark>.")
    link: str = Field(description="Opens the player at the hit's time, or the document page.")
    doc_name: str = ""
    page: int | None = None
    segments: int = Field(1, description="How many adjacent segments the hit groups.")


def index_of(app: FastAPI) -> SearchIndex:
    """The app's search index, opened on first use (PostgreSQL shares the app's engine)."""
    with _opening:
        if getattr(app.state, "search_index", None) is None:
            ctx: ApiContext = app.state.context
            app.state.search_index = open_index(ctx.settings, engine=ctx.factory.kw.get("bind"), prefix=ctx.prefix)
    return app.state.search_index


@asynccontextmanager
async def search_index(app: FastAPI) -> AsyncIterator[None]:
    """The app's index is closed when the service stops."""
    try:
        yield
    finally:
        if getattr(app.state, "search_index", None) is not None:
            app.state.search_index.close()
            app.state.search_index = None


router = APIRouter(tags=["search"], lifespan=search_index)


def visible_courses(ctx: ApiContext, viewer: Viewer) -> frozenset[str] | None:
    """The courses whose lectures ``viewer`` may search (``None``: all, for trainers and admins)."""
    if can_manage_content(viewer):
        return None
    return frozenset(
        record.course.id
        for record in records.load_courses(ctx.factory)
        if can_see_course(viewer, list(record.audience_paths))
    )


@router.get("/api/search", response_model=list[SearchHitOut])
async def search(
    request: Request,
    q: str = Query("", description='Words (all must match), "phrases", course:/speaker:/resolution:/after:/before:.'),
    course: str | None = Query(None, description="Only this course (within those the caller may see)."),
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> list[SearchHitOut]:
    """Hits for ``q`` in the lectures the caller may see, best first, adjacent hits grouped."""

    def run() -> list[SearchHitOut]:
        courses = visible_courses(ctx, caller.viewer)
        if course is not None:
            courses = frozenset({course}) if courses is None or course in courses else frozenset()
        hits = index_of(request.app).search(q, limit=limit, filters=SearchFilters(courses))
        record_search_terms(ctx.factory, q, (hit.lecture_id for hit in hits))  # counts only, for lecture analytics
        return [SearchHitOut(**hit.as_dict()) for hit in hits]

    return await run_in_threadpool(run)
