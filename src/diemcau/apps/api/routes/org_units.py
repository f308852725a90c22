"""``GET /api/org-units``: the units within the viewer's oversight (a plain member: just their own)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from diemcau.adapters.db import records
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.schemas.common import OrgUnitOut
from diemcau.core.roles import can_manage_content, can_read_org_unit

router = APIRouter(tags=["org units"])


@router.get("/api/org-units", response_model=list[OrgUnitOut])
def list_org_units(caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)) -> list[OrgUnitOut]:
    """Org units the viewer may see, ordered by path (parents before children)."""
    viewer = caller.viewer
    scopes = None if can_manage_content(viewer) else [*viewer.oversight_paths(), *filter(None, [viewer.org_path])]
    units = records.load_org_units(ctx.factory, scopes)
    return [OrgUnitOut.of(unit) for unit in units if can_read_org_unit(viewer, unit.path)]
