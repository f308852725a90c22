"""The typed shapes the API sends and accepts (its OpenAPI description is generated from these)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from diemcau.apps.api.schemas.input_rules import UtcDateTime
from diemcau.core.course import COURSE_ID_PATTERN
from diemcau.core.orgtree import OrgUnit


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class HealthOut(_Out):
    status: str = "ok"


class OrgUnitOut(_Out):
    code: str
    name: str
    kind: str
    path: str

    @classmethod
    def of(cls, unit: OrgUnit) -> OrgUnitOut:
        return cls(code=unit.code, name=unit.name, kind=unit.kind, path=unit.path)


class LinkOut(_Out):
    key: str = Field(description="What the link is for: portal, server, logout.")
    href: str


class MeOut(_Out):
    username: str
    full_name: str
    org_unit: OrgUnitOut
    roles: list[str]
    links: list[LinkOut]


class CourseOut(_Out):
    id: str
    title: str
    resolutions: list[str]
    audience: list[str] = Field(description="Org unit codes whose subtrees study this course.")
    deadline: dt.date | None
    days_left: int | None = Field(description="Days until the deadline, negative once past.")
    enrolled: bool = Field(description="Whether the viewer must study this course.")
    status: str | None = Field(description="The viewer's own status when enrolled: not_started, in_progress, ...")


class CourseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=COURSE_ID_PATTERN.pattern)
    title: str = Field(min_length=1, max_length=255)
    resolutions: list[str] = []
    audience: list[str] = Field(min_length=1, description="Org unit codes.")
    deadline: dt.date | None = None


class MemberOut(_Out):
    card: str
    full_name: str
    org_unit: OrgUnitOut
    active: bool
    activated: bool = Field(description="Whether the member has set a password.")
    login_wait_seconds: int = Field(
        description="How long the member's next login must wait under the login throttle, at worst (0: at once); "
        "`POST .../unlock` clears it."
    )
    roles: list[str]


class ActivationCodeOut(_Out):
    card: str
    activation_code: str
    expires_at: UtcDateTime = Field(description="UTC.")
