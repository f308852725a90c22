"""``GET /search?q=``: the portal's search results page — the same search as ``GET /api/search``, as HTML.

Each hit shows the lecture's title, the moment (mm:ss) and the snippet, and links to the player at that moment
(``/lectures/<id>?t=<seconds>``). The search runs over the courses the member may see, exactly as the API does
(``ctx.visibility.search_scope``). Snippets are HTML built by the search layer, which escapes every
character of the transcript and adds only ``<mark>``; they are trusted as markup for that reason alone, and
``trusted_snippet`` checks that promise again before the page does.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool

from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.core.roles import Viewer
from diemcau.core.search_results import Hit
from diemcau.search.index import SearchFilters

router = APIRouter(tags=["player"])
PAGE_HITS = 20
_MARK = re.compile(r"</?mark>")


def trusted_snippet(snippet: str) -> Markup:
    """The snippet as markup when it is what the search layer promises (escaped text and ``<mark>`` tags);
    anything else is escaped whole, so a broken promise shows tags as text instead of running them."""
    if "<" in _MARK.sub("", snippet) or ">" in _MARK.sub("", snippet):
        return escape(snippet)
    return Markup(snippet)


def search_hits(ctx: ApiContext, viewer: Viewer, query: str) -> list[Hit]:
    """Hits for ``query`` in the lectures ``viewer`` may see, best first (the API's search)."""
    if not query.strip():
        return []
    filters = SearchFilters(ctx.visibility.search_scope(viewer))
    return ctx.runtime.search.index().search(query, limit=PAGE_HITS, filters=filters)


@router.get("/search", response_class=HTMLResponse)
async def search_page(
    q: str = Query("", description="What to look for (the API's query language)."),
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> HTMLResponse:
    """Search results (HTML): each hit links to the player at its moment."""
    hits = await run_in_threadpool(search_hits, ctx, caller.viewer, q)
    template = ctx.runtime.pages.get_template("search.html")
    body = template.render(q=q, hits=hits, prefix=ctx.prefix, snippet=trusted_snippet, searched=bool(q.strip()))
    return HTMLResponse(body)
