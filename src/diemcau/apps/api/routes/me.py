"""``GET /api/me``: who the caller is, where they sit in the tree, their roles and their links."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from diemcau.apps.api.pages.links import links_for
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.schemas.common import LinkOut, MeOut, OrgUnitOut

router = APIRouter(tags=["me"])


@router.get("/api/me", response_model=MeOut)
def read_me(caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)) -> MeOut:
    """The calling member."""
    links = links_for(caller.viewer, ctx.hub_base_url, ctx.prefix)
    return MeOut(
        username=caller.viewer.username,
        full_name=caller.member.full_name,
        org_unit=OrgUnitOut.of(caller.member.unit),
        roles=[str(role) for role in caller.viewer.roles()],
        links=[LinkOut(key=link.key, href=link.href) for link in links],
    )
