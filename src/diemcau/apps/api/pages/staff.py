"""``GET /staff``: the staff home — a cell secretary's or a committee's weekly work on one light page.

Server-rendered like the member portal (docs/staff.md): who within the caller's scope is behind (filters, paged),
a committee's per-sub-unit summary, the Zalo reminder with a copy button, a group screening form, the essays
waiting to be graded, the official report's downloads and the links into the Voila dashboards. Its only script
is ``static/staff.js`` (copy, screening), sent with ``X-Diemcau-Request`` like every page write.

Nothing here decides visibility: the scope comes from the completion API's ``completion_scopes`` (secretary: cell,
committee: subtree, admin: all, trainer and member refused), the rows from ``course_completion`` shaped as the
completion route answers them, the view from the cell dashboard's ``cell_view`` (filters, reminder text) and
the sub-unit summary from the units route's ``unit_rows`` with ``committee_view``. Query parameters are read
leniently (a bad one falls back to its default) and are matched against what the caller may see before any of
them reaches the database.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import HTMLResponse

from diemcau.adapters.db import quizzes as quiz_store
from diemcau.adapters.db import records
from diemcau.adapters.db.completion import CourseCompletion, MemberCompletion, course_completion
from diemcau.adapters.db.lecture_reads import load_lectures
from diemcau.adapters.reports.signing import certificate_path
from diemcau.apps.api.pages.assets import asset_url
from diemcau.apps.api.pages.environment import render_page
from diemcau.apps.api.pages.links import Link, links_for
from diemcau.apps.api.pages.quiz_pages import as_page
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.routes.completion import MemberCompletionOut
from diemcau.apps.api.routes.completion import completion_scopes
from diemcau.apps.api.routes.dashboards import unit_rows
from diemcau.core.completion_tree import STATUSES
from diemcau.core.course import days_left
from diemcau.core.orgtree import OrgUnit, is_within
from diemcau.core.quiz_form import QuizForm
from diemcau.core.roles import Role, Viewer, can_manage_member
from diemcau.core.visibility import is_published
from diemcau.dashboards import cell_view, committee_view
from diemcau.i18n import t
from diemcau.quizzes.grading import essays_waiting

router = APIRouter(tags=["staff pages"])
STAFF_JS = "staff.js"
PAGE_SIZE = 50  # members listed per page: a province's subtree stays a few kilobytes
SUBUNITS_SHOWN = 30  # sub-units in the summary, slowest first; the committee dashboard has them all
MAX_TEXT = 100  # longest name filter kept
BEHIND = "behind"  # the default filter: everyone not (yet) completed
FILTERS = (BEHIND, "", *STATUSES)  # "" is every status


def lands_on_staff_home(viewer: Viewer) -> bool:
    """Does ``viewer`` land on the staff home after login (a secretary or a committee member)? Admins land on
    the portal with a link here; trainers keep the studio."""
    return viewer.has(Role.SECRETARY) or viewer.has(Role.COMMITTEE)


@dataclass(frozen=True)
class StaffQuery:
    """The page's query parameters, made safe: unknown values fall back to their defaults."""

    course: str = ""
    unit: str = ""
    status: str = BEHIND
    q: str = ""
    page: int = 1

    @classmethod
    def parse(cls, course: str, unit: str, status: str, q: str, page: str) -> StaffQuery:
        number = int(page) if page.isascii() and page.isdigit() and len(page) < 7 else 1
        return cls(
            course.strip()[:64],
            unit.strip().lower()[:64],
            status if status in FILTERS else BEHIND,
            q.strip()[:MAX_TEXT],
            max(1, number),
        )


@dataclass(frozen=True)
class EssayQueue:
    """One quiz with a bài thu hoạch: how many counted attempts wait for a grade, and where to grade them."""

    title: str
    waiting: int
    href: str | None  # None: the caller does not grade (a committee)


@dataclass(frozen=True)
class StaffHome:
    """Everything the staff home shows one caller."""

    full_name: str
    scope_name: str
    query: StaffQuery
    prefix: str
    courses: tuple[tuple[str, str], ...]  # (id, title)
    view: cell_view.CellView | None = None  # of every member for one cell (reminder, form), else of the page's
    title: str = ""  # the course's
    counts: dict[str, int] = field(default_factory=dict)  # members per status, the whole scope
    summary: str = ""  # cell_view.done_text
    deadline: str = ""  # cell_view.deadline_text
    lines: tuple[cell_view.MemberLine, ...] = ()
    matching: int = 0
    pages: int = 1
    page_links: dict[str, str] = field(default_factory=dict)  # "prev"/"next" -> href
    subunits: tuple[committee_view.UnitLine, ...] = ()
    direct: tuple[int, int] | None = None  # (completed, total) of members attached to the scope's unit itself
    more_subunits: int = 0
    unit_choices: tuple[tuple[str, str], ...] = ()  # (code, name): the scope's direct sub-units
    up_href: str | None = None
    reminder: str | None = None
    lectures: tuple[tuple[str, str], ...] = ()  # (id, title), for the screening form
    can_record: bool = False
    essays: tuple[EssayQueue, ...] = ()
    reports: dict[str, str] = field(default_factory=dict)  # "xlsx"/"pdf" -> href
    report_signer: str | None = None  # the unit whose own certificate signs the PDF (docs/reports.md), if any
    links: tuple[Link, ...] = ()
    today: str = ""
    script: str = ""


def _href(prefix: str, **params: object) -> str:
    kept = {key: value for key, value in params.items() if value not in ("", None, 1) or key == "status"}
    return f"{prefix}/staff?{urlencode(kept)}"


def _scope_unit(units: list[OrgUnit], scopes: list[str]) -> OrgUnit | None:
    return next((u for u in units if u.path == scopes[0]), None) if len(scopes) == 1 else None


def _widest_unit(units: list[OrgUnit], oversight: list[str]) -> OrgUnit | None:
    """The one unit whose subtree holds all of the caller's oversight, when their grants nest (a secretary of a
    cell on the committee above it), so the page shows that unit rather than two overlapping scopes."""
    tops = [p for p in oversight if not any(p != q and is_within(p, q) for q in oversight)]
    return next((u for u in units if u.path == tops[0]), None) if len(set(tops)) == 1 and len(oversight) > 1 else None


def _below_top(unit: OrgUnit, oversight: list[str]) -> bool:
    """Is ``unit`` strictly inside one of the caller's subtrees (so the page can go one level up)?"""
    return any(unit.path != path and is_within(unit.path, path) for path in oversight)


def _children(units: list[OrgUnit], parent: OrgUnit | None) -> list[OrgUnit]:
    if parent is None:
        return [u for u in units if u.parent_path is None]
    return [u for u in units if u.parent_path == parent.path]


def completion_answer(found: CourseCompletion, members: Sequence[MemberCompletion]) -> dict:
    """``GET /api/courses/{id}/completion``'s answer for these of its members, as ``cell_view`` (the dashboards'
    view-model) reads it."""
    return {
        "course_id": found.course_id,
        "title": found.title,
        "deadline": found.deadline,
        "lectures": list(found.lectures),
        "quizzes": list(found.quizzes),
        "members": [MemberCompletionOut.of(m).model_dump() for m in members],
    }


def wanted_statuses(status: str) -> list[str]:
    """The statuses a filter value keeps: everyone not completed, one status, or every status ("")."""
    if status == BEHIND:
        return [s for s in STATUSES if s != "completed"]
    return [status] if status else []


def build_staff_home(ctx: ApiContext, caller: Caller, query: StaffQuery) -> StaffHome:
    """The staff home for ``caller`` (``HTTPException`` 403 for members and trainers, 404 for a unit outside
    their scope), scoped exactly as the completion API scopes them."""
    viewer = caller.viewer
    oversight = viewer.oversight_paths()
    if not oversight:
        raise HTTPException(403, t("staff.trainer_refused" if viewer.is_staff else "staff.not_allowed"))
    units = records.load_org_units(ctx.factory, oversight)
    chosen = next((u for u in units if u.code == query.unit), None) if query.unit else None
    if query.unit and chosen is None:
        raise HTTPException(404, t("report.unknown_unit"))
    widest = _widest_unit(units, oversight)  # a cell's secretary who also sits on the commune's committee
    scopes, _only_self = completion_scopes(ctx, caller, (chosen or widest).code if chosen or widest else None)
    scope = _scope_unit(units, scopes)
    children = _children(units, scope) if len(scopes) == 1 else []
    shown = ctx.visibility.courses(viewer)
    visible = [r.course for r in records.load_courses(ctx.factory) if r.course.id in shown]
    course = next((c for c in visible if c.id == query.course), visible[0] if visible else None)
    links = links_for(viewer, ctx.hub_base_url, ctx.prefix)
    home = StaffHome(
        full_name=caller.member.full_name,
        scope_name=scope.name if scope else t("staff.all_units"),
        query=query,
        prefix=ctx.prefix,
        courses=tuple((c.id, c.title) for c in visible),
        links=tuple(link for link in links if link.key not in ("portal", "staff")),
        today=ctx.today().isoformat(),
        script=asset_url(ctx.settings, ctx.prefix, STAFF_JS),
        unit_choices=tuple((u.code, u.name) for u in children),
        up_href=_up_href(ctx.prefix, query, scope, units) if chosen and _below_top(chosen, oversight) else None,
    )
    found = course_completion(ctx.factory, course.id, scopes, ctx.today()) if course else None
    if course is None or found is None:  # no course, or one removed since the list was read
        return home
    ready = [r for r in load_lectures(ctx.factory, {course.id}) if is_published(r.status)]
    titles = {r.id: r.title for r in ready}
    forms = quiz_store.list_forms(ctx.factory, [course.id])
    infos = {f.quiz_id: cell_view.QuizInfo(f.title, f.total_points) for f in forms}
    leaf = scope is not None and not children
    # Rows are filtered with the view-model's own rule before lines are built: a province has 100,000 members
    # and the page shows 50 (a cell's page builds them all, for its reminder and screening form).
    wanted = wanted_statuses(query.status)
    matching = [
        m for m in found.members if cell_view.matches(str(m.status), m.full_name, m.card_number, wanted, query.q)
    ]
    paged = _paged(replace(home, query=replace(query, course=course.id)), len(matching))
    shown = matching[(paged.query.page - 1) * PAGE_SIZE : paged.query.page * PAGE_SIZE]
    answer = completion_answer(found, found.members if leaf else shown)
    view = cell_view.build_cell_view(answer, titles, infos, days_left(ctx.today(), course.deadline))
    cards = {m.card_number for m in shown}
    statuses = Counter(str(m.status) for m in found.members)
    subunits = _slowest_subunits(ctx, scopes, found) if children else []
    return replace(
        paged,
        view=view,
        lines=tuple(line for line in view.lines if line.card in cards),
        title=found.title,
        counts={status: statuses.get(status, 0) for status in STATUSES},
        summary=cell_view.done_text(statuses.get("completed", 0), len(found.members)),
        deadline=cell_view.deadline_text(view),
        subunits=tuple(subunits[:SUBUNITS_SHOWN]),
        more_subunits=max(0, len(subunits) - SUBUNITS_SHOWN),
        direct=_direct(scope, found) if children else None,
        reminder=cell_view.reminder_text(view, scope.name) if leaf else None,
        lectures=tuple(titles.items()),
        can_record=leaf and can_manage_member(viewer, scope.path),
        essays=_essays(ctx, viewer, course.id, forms, scopes),
        reports=_reports(ctx.prefix, course.id, scope or chosen),
        report_signer=scope.name if scope and certificate_path(ctx.settings.certificates_dir, scope.code) else None,
    )


def _paged(home: StaffHome, matching: int) -> StaffHome:
    """``home`` on the page its query asks for (clamped to the last) of ``matching`` members, with links to the
    pages before and after."""
    query = home.query
    pages = max(1, math.ceil(matching / PAGE_SIZE))
    number = min(query.page, pages)
    here = dict(course=query.course, unit=query.unit, status=query.status, q=query.q)
    links = {"prev": number - 1, "next": number + 1}
    return replace(
        home,
        query=replace(query, page=number),
        matching=matching,
        pages=pages,
        page_links={key: _href(home.prefix, **here, page=n) for key, n in links.items() if 1 <= n <= pages},
    )


def _slowest_subunits(ctx: ApiContext, scopes: list[str], found: CourseCompletion) -> list[committee_view.UnitLine]:
    """The scope's direct sub-units, slowest first, from the units route's tallies (``committee_view``)."""
    rows = [row.model_dump() for row in unit_rows(ctx, scopes, found)]
    return committee_view.slowest_subunits(committee_view.unit_lines({"units": rows}))


def _direct(scope: OrgUnit | None, found: CourseCompletion) -> tuple[int, int] | None:
    """(completed, total) of the members the roster attaches to the scope's unit itself (a commune's own committee
    members), who are in no sub-unit's row: the report gives them a row of their own too (``core.report``), so
    the rows add up to the page's total."""
    own = [m for m in found.members if scope is not None and m.unit.path == scope.path]
    return (sum(str(m.status) == "completed" for m in own), len(own)) if own else None


def _essays(
    ctx: ApiContext, viewer: Viewer, course_id: str, forms: list[QuizForm], scopes: list[str]
) -> tuple[EssayQueue, ...]:
    """Each quiz with a bài thu hoạch: essays waiting within ``scopes``; a grading link for those who grade."""
    grades = any(g.role in (Role.SECRETARY, Role.ADMIN) for g in viewer.grants)  # quiz_pages.grading_page's rule
    return tuple(
        EssayQueue(
            form.title,
            essays_waiting(ctx.factory, form, scopes),
            f"{ctx.prefix}/quizzes/{quote(course_id)}/{quote(form.quiz_id)}/grading" if grades else None,
        )
        for form in forms
        if form.has_essay
    )


def _reports(prefix: str, course_id: str, unit: OrgUnit | None) -> dict[str, str]:
    """The official report's routes, for the unit the page shows (else the caller's own oversight unit)."""
    query = f"?{urlencode({'org': unit.code})}" if unit else ""
    return {fmt: f"{prefix}/api/courses/{quote(course_id)}/report.{fmt}{query}" for fmt in ("xlsx", "pdf")}


def _up_href(prefix: str, query: StaffQuery, scope: OrgUnit | None, units: list[OrgUnit]) -> str:
    """The page one level up from a narrowed unit: its parent while still within the caller's units."""
    parent = next((u for u in units if scope is not None and u.path == scope.parent_path), None)
    return _href(prefix, course=query.course, unit=parent.code if parent else "", status=query.status, q=query.q)


def staff_page(ctx: ApiContext, caller: Caller, query: StaffQuery) -> HTMLResponse:
    """The staff home as HTML."""
    return HTMLResponse(render_page(ctx.runtime.pages, "staff.html", page=build_staff_home(ctx, caller, query)))


@router.get("/staff", response_class=HTMLResponse)
@as_page
def staff_home(
    course: str = "",
    unit: str = "",
    status: str = BEHIND,
    q: str = "",
    page: str = "1",
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> HTMLResponse:
    """The staff home (HTML) of a secretary, a committee member or an admin: who is behind within their scope
    (``status``: behind, a status, or empty for all; ``unit``: a unit within the scope; ``q``: a name or card),
    the reminder, a screening form, essays to grade, the report and the dashboards."""
    return staff_page(ctx, caller, StaffQuery.parse(course, unit, status, q, page))
