"""Completion tracking: each member's status in a course (scoped by the org tree), group screenings, and
the official report.

Scope: a member sees only their own row; a secretary their cell; a committee its subtree; an admin all.
A trainer manages content, not people, and is refused. ``?org=`` narrows the scope further, never widens it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from diemcau.adapters.db.completion import MemberCompletion, course_completion
from diemcau.adapters.db.orgs import find_unit, list_units
from diemcau.adapters.db.screenings import ScreeningRefused, record_screening
from diemcau.adapters.reports.official import MEDIA_TYPES, ReportError, official_report
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.schemas.common import OrgUnitOut
from diemcau.core.orgtree import is_within
from diemcau.i18n import t

router = APIRouter(tags=["completion"])
SIGNATURE_HEADER = "X-Diemcau-Signature"


class MemberCompletionOut(BaseModel):
    card: str
    full_name: str
    unit: OrgUnitOut
    status: str
    status_label: str
    coverage: dict[str, float]
    screened: list[str]
    quiz_scores: dict[str, float | None]
    essay_grade: str | None
    missing: list[str]

    @classmethod
    def of(cls, m: MemberCompletion) -> MemberCompletionOut:
        return cls(
            card=m.card_number,
            full_name=m.full_name,
            unit=OrgUnitOut.of(m.unit),
            status=str(m.status),
            status_label=t(f"status.{m.status}"),
            coverage=m.coverage,
            screened=sorted(m.screened),
            quiz_scores=m.quiz_scores,
            essay_grade=m.essay_grade,
            missing=list(m.completion.missing),
        )


class CompletionOut(BaseModel):
    course_id: str
    title: str
    deadline: dt.date | None
    lectures: list[str]
    quizzes: list[str]
    members: list[MemberCompletionOut]


def completion_scopes(ctx: ApiContext, caller: Caller, org: str | None) -> tuple[list[str], bool]:
    """The org paths the caller may see (narrowed by ``org``), and whether only their own row is allowed."""
    oversight = caller.viewer.oversight_paths()
    if not oversight:
        if caller.viewer.is_staff:  # a trainer: content, not people
            raise HTTPException(403, t("completion.not_allowed"))
        return [caller.viewer.org_path or "/"], True
    if org is None:
        return oversight, False
    with ctx.factory() as session:
        unit = find_unit(session, org)
    if unit is None or not any(is_within(unit.path, scope) for scope in oversight):
        raise HTTPException(404, t("report.unknown_unit"))
    return [unit.path], False


@router.get("/api/courses/{course_id}/completion", response_model=CompletionOut)
def read_completion(
    course_id: str,
    org: str | None = Query(None, description="Org unit code within your oversight."),
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> CompletionOut:
    """Each enrolled member's status, coverage, quiz scores and essay grade, within the caller's scope."""
    scopes, only_self = completion_scopes(ctx, caller, org)
    ctx.visibility.require_course(caller.viewer, course_id)
    completion = course_completion(ctx.factory, course_id, scopes, ctx.today())
    if completion is None:
        raise HTTPException(404, t("api.course_not_found"))
    members = [m for m in completion.members if not only_self or m.card_number == caller.viewer.username]
    if only_self and not members:
        raise HTTPException(404, t("api.course_not_found"))
    return CompletionOut(
        course_id=completion.course_id,
        title=completion.title,
        deadline=completion.deadline,
        lectures=list(completion.lectures),
        quizzes=list(completion.quizzes),
        members=[MemberCompletionOut.of(m) for m in members],
    )


class ScreeningIn(BaseModel):
    """A group screening as a form sends it. What is missing (no lecture, no date, nobody ticked) is not a schema
    error but the route's own 422, whose Vietnamese message names each missing field (``missing_fields``)."""

    lecture_id: str = Field("", max_length=32)
    held_on: dt.date | None = None
    place: str = Field("", max_length=255)
    members: list[str] = Field(default_factory=list, max_length=2000)

    @field_validator("held_on", mode="before")
    @classmethod
    def _blank_date_is_missing(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def missing_fields(self) -> list[str]:
        """The fields left empty, as keys under ``completion.screening_field_`` (lecture, date, members)."""
        absent = {
            "lecture": not self.lecture_id.strip(),
            "date": self.held_on is None,
            "members": not any(card.strip() for card in self.members),
        }
        return [name for name, empty in absent.items() if empty]


class ScreeningOut(BaseModel):
    id: int
    lecture_id: str
    members: list[str]


@router.post("/api/screenings", response_model=ScreeningOut, status_code=201)
async def post_screening(
    body: ScreeningIn, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> ScreeningOut:
    """A secretary records the members of their cell who attended a group screening of a lecture."""
    missing = body.missing_fields()
    if missing:
        fields = ", ".join(t(f"completion.screening_field_{name}") for name in missing)
        raise HTTPException(422, t("completion.screening_missing", fields=fields))
    try:
        screening_id, cards = await run_in_threadpool(
            record_screening, ctx.factory, caller.viewer, body.lecture_id, body.held_on, body.place, body.members
        )
    except ScreeningRefused as refused:
        raise HTTPException(refused.status, t(f"completion.{refused.code}", **refused.params)) from None
    return ScreeningOut(id=screening_id, lecture_id=body.lecture_id, members=cards)


def _single_root(ctx: ApiContext) -> str:
    """For an everywhere-scope (admin) without ``?org=``: the tree's root, when there is exactly one."""
    with ctx.factory() as session:
        roots = [u for u in list_units(session) if u.parent_path is None]
    if len(roots) != 1:
        raise HTTPException(422, t("completion.choose_unit"))
    return roots[0].code


@router.get(
    "/api/courses/{course_id}/report.{fmt}",
    response_class=Response,
    responses={200: {"content": {v: {} for v in MEDIA_TYPES.values()}}},
)
def download_report(
    course_id: str,
    fmt: Literal["xlsx", "pdf"],
    org: str | None = Query(None, description="Org unit code; default: your own oversight unit."),
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> Response:
    """The official report (Báo cáo kết quả học tập, quán triệt nghị quyết) for a unit within your oversight.

    A PDF is signed with the unit's certificate when the deployment configured one (docs/reports.md). The header
    ``X-Diemcau-Signature`` says ``signed``, ``unsigned`` or ``failed`` (a certificate is configured but could not
    sign: the unsigned PDF is served, ``X-Diemcau-Signature-Message`` carries the Vietnamese notice and the
    operator's log the cause); ``X-Diemcau-Signer`` names the signer. Both texts are percent-encoded UTF-8."""
    scopes, only_self = completion_scopes(ctx, caller, org)
    if only_self:
        raise HTTPException(403, t("completion.not_allowed"))
    ctx.visibility.require_course(caller.viewer, course_id)
    code = scopes[0].strip("/").rsplit("/", 1)[-1] or _single_root(ctx)  # a path's last code is its unit's
    try:
        report = official_report(ctx.factory, code, course_id, fmt, ctx.today(), ctx.settings.certificates_dir)
    except ReportError as error:
        raise HTTPException(404, t(f"report.{error.code}")) from None
    headers = {"Content-Disposition": f'attachment; filename="{report.name}"', SIGNATURE_HEADER: report.signature}
    if report.signer:
        headers["X-Diemcau-Signer"] = quote(report.signer)
    if report.signature == "failed":
        headers["X-Diemcau-Signature-Message"] = quote(t("report.sign_failed"))
    return Response(report.data, media_type=MEDIA_TYPES[fmt], headers=headers)
