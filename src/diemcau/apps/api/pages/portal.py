"""``GET /``: where everyone lands after login. Members (and trainers, admins) get the member portal — their
courses, deadlines and status; secretaries and committees get their staff home (``staff.py``), rendered here
directly rather than redirected, to save a round trip on a 3G link. ``GET /courses`` is the member portal for
everyone: a secretary studies too, and the staff home links to it (docs/staff.md).

Neither needs a Jupyter server or a kernel; staff reach the Voila dashboards through the links of their role.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from diemcau.apps.api.pages.environment import PortalPage, render_portal
from diemcau.apps.api.pages.links import links_for
from diemcau.apps.api.pages.portal_lectures import lectures_by_course
from diemcau.apps.api.pages.quiz_pages import as_page
from diemcau.apps.api.pages.staff import StaffQuery, lands_on_staff_home, staff_page
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.routes.courses import course_views

router = APIRouter(tags=["portal"])


@router.get("/", response_class=HTMLResponse)
@as_page
def portal(caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)) -> HTMLResponse:
    """The landing page (HTML): the staff home for secretaries and committees, else the member portal."""
    if lands_on_staff_home(caller.viewer):
        return staff_page(ctx, caller, StaffQuery())
    return my_courses(caller=caller, ctx=ctx)


@router.get("/courses", response_class=HTMLResponse)
def my_courses(caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)) -> HTMLResponse:
    """The member portal (HTML): the courses the caller must study, whatever else they do."""
    viewer = caller.viewer
    courses = tuple(c for c in course_views(ctx, viewer) if c.enrolled)
    page = PortalPage(
        full_name=caller.member.full_name,
        unit_name=caller.member.unit.name,
        courses=courses,
        links=tuple(links_for(viewer, ctx.hub_base_url, ctx.prefix)),
        lectures=lectures_by_course(ctx, viewer.username, (c.id for c in courses)),
        member=viewer.username,
    )
    return HTMLResponse(render_portal(ctx.runtime.pages, page))
