"""Search route: ``GET /api/search?q=&course=&limit=`` over every published transcript and document.

Results are limited to the courses the caller may see (``ctx.visibility.search_scope``, the rule of
``core.visibility``: members their own courses, secretaries and committees also those of their units, trainers and
admins all); only published lectures are indexed (``core.visibility.is_published``). Any ``q`` is
accepted — the query parser disarms it — and an empty one returns no hits. Snippets are HTML with matched
words in ``<mark>``, escaped so a transcript cannot inject markup; ``link`` opens the player at the hit.

The index is the app's (``ctx.runtime.search``). A trainer's correction through the API is searchable as soon as
it is saved: the corrections route calls ``search.content.content_changed`` with this index.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from diemcau.adapters.db.dashboards import record_search_terms
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.search.index import MAX_LIMIT, SearchFilters

router = APIRouter(tags=["search"])


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


@router.get("/api/search", response_model=list[SearchHitOut])
async def search(
    q: str = Query("", description='Words (all must match), "phrases", course:/speaker:/resolution:/after:/before:.'),
    course: str | None = Query(None, description="Only this course (within those the caller may see)."),
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> list[SearchHitOut]:
    """Hits for ``q`` in the lectures the caller may see, best first, adjacent hits grouped."""

    def run() -> list[SearchHitOut]:
        courses = ctx.visibility.search_scope(caller.viewer)
        if course is not None:
            courses = frozenset({course}) if courses is None or course in courses else frozenset()
        hits = ctx.runtime.search.index().search(q, limit=limit, filters=SearchFilters(courses))
        record_search_terms(ctx.factory, q, (hit.lecture_id for hit in hits))  # counts only, for lecture analytics
        return [SearchHitOut(**hit.as_dict()) for hit in hits]

    return await run_in_threadpool(run)
