"""``GET /``: the member portal members land on after login — their courses, deadlines and status.

It needs no Jupyter server and no kernel; staff find their tools (Voila dashboards, nbgrader) behind the
link to their own server.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from diemcau.apps.api.access import Caller, current_caller
from diemcau.apps.api.context import ApiContext, context_of
from diemcau.apps.api.courses import visible_courses
from diemcau.apps.api.links import links_for
from diemcau.apps.api.pages import PortalPage, render_portal
from diemcau.apps.api.portal_lectures import lectures_by_course

router = APIRouter(tags=["portal"])


@router.get("/", response_class=HTMLResponse)
def portal(caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)) -> HTMLResponse:
    """The portal page (HTML): the courses the member must study."""
    viewer = caller.viewer
    courses = tuple(c for c in visible_courses(ctx, viewer) if c.enrolled)
    page = PortalPage(
        full_name=caller.member.full_name,
        unit_name=caller.member.unit.name,
        courses=courses,
        links=tuple(links_for(viewer, ctx.hub_base_url, ctx.prefix)),
        lectures=lectures_by_course(ctx, viewer.username, (c.id for c in courses)),
    )
    return HTMLResponse(render_portal(page))
