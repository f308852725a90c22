"""Roles and the authorization rule that follows the org tree.

A member sees their own records, a secretary their cell, a committee its subtree, a trainer the content
they manage, an admin everything. Grants are scoped to an org unit path; ``None`` scope means global.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from diemcau.core.orgtree import is_within


class Role(StrEnum):
    MEMBER = "member"
    TRAINER = "trainer"
    SECRETARY = "secretary"
    COMMITTEE = "committee"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.TRAINER, Role.SECRETARY, Role.COMMITTEE, Role.ADMIN})


@dataclass(frozen=True)
class Grant:
    """A role held over an org unit subtree (``scope_path``), or everywhere when it is ``None``."""

    role: Role
    scope_path: str | None = None


@dataclass(frozen=True)
class Viewer:
    """Who is asking: their username, their own org unit path and their grants."""

    username: str
    org_path: str | None
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    def has(self, role: Role) -> bool:
        return role == Role.MEMBER or any(g.role == role for g in self.grants)

    @property
    def is_admin(self) -> bool:
        return self.has(Role.ADMIN)

    @property
    def is_staff(self) -> bool:
        return any(g.role in STAFF_ROLES for g in self.grants)

    def roles(self) -> list[Role]:
        """All roles held, member first."""
        return [Role.MEMBER] + sorted({g.role for g in self.grants} - {Role.MEMBER})

    def oversight_paths(self) -> list[str]:
        """The subtrees whose members' records this viewer may read (secretary or committee grants)."""
        return [
            g.scope_path or "/" for g in self.grants if g.role in (Role.SECRETARY, Role.COMMITTEE, Role.ADMIN)
        ]


def can_read_member(viewer: Viewer, member_username: str, member_org_path: str) -> bool:
    """May ``viewer`` read the records of the member at ``member_org_path``?"""
    if viewer.username == member_username:
        return True
    return any(is_within(member_org_path, scope) for scope in viewer.oversight_paths())


def can_manage_member(viewer: Viewer, member_org_path: str) -> bool:
    """May ``viewer`` issue activation codes or reset passwords for this member (secretary of the cell, admin)?"""
    scopes = [g.scope_path or "/" for g in viewer.grants if g.role in (Role.SECRETARY, Role.ADMIN)]
    return any(is_within(member_org_path, scope) for scope in scopes)


def can_manage_content(viewer: Viewer) -> bool:
    """May ``viewer`` create and edit courses and lectures?"""
    return viewer.has(Role.TRAINER) or viewer.is_admin
