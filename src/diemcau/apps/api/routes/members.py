"""Member routes: read within the viewer's oversight; account help (codes, resets, unlocks) by secretaries.

A member outside what the viewer may read is a 404, the same as a missing one, so card numbers cannot be
probed. One the viewer may read but not manage (themself, or for a committee) is a 403.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Query

from diemcau.adapters.db import accounts
from diemcau.adapters.db import records
from diemcau.adapters.db.login_throttle import account_waits
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.schemas.common import ActivationCodeOut, MemberOut, OrgUnitOut
from diemcau.apps.api.schemas.input_rules import Count
from diemcau.core.credentials import throttle_policy, wait_seconds
from diemcau.core.roles import can_manage_member, can_read_member
from diemcau.i18n import t

router = APIRouter(tags=["members"])
_NOT_VISIBLE = {404: {"description": "No such member, or not visible to the caller."}}


def member_views(ctx: ApiContext, members: list[records.MemberRecord]) -> list[MemberOut]:
    """Member records as the API shows them, each with how long their next login must wait under the throttle."""
    auth = ctx.settings.auth
    policy = throttle_policy(
        auth.free_failures,
        auth.account_free_failures,
        auth.address_free_failures,
        auth.max_wait_seconds,
        auth.address_max_wait_seconds,
        auth.forget_after_minutes,
    )
    waits = account_waits(
        ctx.factory, [m.card for m in members], policy, ctx.now().astimezone(dt.UTC).replace(tzinfo=None)
    )
    return [
        MemberOut(
            card=m.card,
            full_name=m.full_name,
            org_unit=OrgUnitOut.of(m.unit),
            active=m.active,
            activated=m.activated,
            login_wait_seconds=wait_seconds(waits.get(m.card, dt.timedelta(0))),
            roles=[str(r) for r in m.roles],
        )
        for m in members
    ]


def _readable(ctx: ApiContext, caller: Caller, card: str) -> records.MemberRecord:
    member = records.load_member(ctx.factory, card)
    if member is None or not can_read_member(caller.viewer, member.card, member.unit.path):
        raise HTTPException(404, t("api.member_not_found"))
    return member


def _manageable(ctx: ApiContext, caller: Caller, card: str) -> records.MemberRecord:
    member = _readable(ctx, caller, card)
    if not can_manage_member(caller.viewer, member.unit.path):
        raise HTTPException(403, t("api.forbidden"))
    return member


@router.get("/api/members", response_model=list[MemberOut])
def list_members(
    org: str | None = Query(None, description="Only members within this org unit's subtree (its code)."),
    limit: int = Query(500, ge=1, le=5000),
    offset: Count = 0,
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> list[MemberOut]:
    """Members the caller may read: themself, their cell (secretary), their subtree (committee), all (admin)."""
    within = None
    if org is not None:
        unit = records.load_org_unit(ctx.factory, org)
        if unit is None:
            return []
        within = unit.path
    members = records.load_members(ctx.factory, caller.viewer, within, limit, offset)
    return member_views(ctx, [m for m in members if can_read_member(caller.viewer, m.card, m.unit.path)])


@router.get("/api/members/{card}", response_model=MemberOut, responses=_NOT_VISIBLE)
def read_member(
    card: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> MemberOut:
    """One member."""
    return member_views(ctx, [_readable(ctx, caller, card)])[0]


def _new_code(ctx: ApiContext, member: records.MemberRecord, reset_password: bool) -> ActivationCodeOut:
    valid_for = dt.timedelta(days=ctx.settings.auth.activation_code_days)
    code = accounts.issue_activation_code(
        ctx.factory, member.card, valid_for, verifier=ctx.runtime.secrets, reset_password=reset_password
    )
    issued = records.load_member(ctx.factory, member.card)
    assert issued is not None and issued.activation_expires_at is not None
    return ActivationCodeOut(card=member.card, activation_code=code, expires_at=issued.activation_expires_at)


@router.post("/api/members/{card}/activation-code", response_model=ActivationCodeOut, responses=_NOT_VISIBLE)
def issue_activation_code(
    card: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> ActivationCodeOut:
    """A new one-time activation code for the member (secretary of their cell, or admin)."""
    return _new_code(ctx, _manageable(ctx, caller, card), reset_password=False)


@router.post("/api/members/{card}/reset-password", response_model=ActivationCodeOut, responses=_NOT_VISIBLE)
def reset_password(
    card: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> ActivationCodeOut:
    """Clear the member's password and give them a new activation code."""
    return _new_code(ctx, _manageable(ctx, caller, card), reset_password=True)


@router.post("/api/members/{card}/unlock", response_model=MemberOut, responses=_NOT_VISIBLE)
def unlock(card: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)) -> MemberOut:
    """Let the member try again at once: clears the account's login throttle (docs/security/login.md)."""
    member = _manageable(ctx, caller, card)
    accounts.unlock(ctx.factory, member.card)
    unlocked = records.load_member(ctx.factory, member.card)
    assert unlocked is not None
    return member_views(ctx, [unlocked])[0]
