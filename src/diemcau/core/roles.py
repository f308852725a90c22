"""Roles and the authorization rule that follows the org tree.

A member sees their own records, a secretary their cell, a committee its subtree, a trainer the content
they manage, an admin everything. Grants are scoped to an org unit path; ``None`` scope means global.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from diemcau.core.course import is_enrolled
from diemcau.core.orgtree import is_within


class Role(StrEnum):
    MEMBER = "member"
    TRAINER = "trainer"
    SECRETARY = "secretary"
    COMMITTEE = "committee"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.TRAINER, Role.SECRETARY, Role.COMMITTEE, Role.ADMIN})


def roles_held(granted: Iterable[Role]) -> tuple[Role, ...]:
    """``member`` first (every member is one), then the other roles granted, sorted."""
    return (Role.MEMBER, *sorted(set(granted) - {Role.MEMBER}))


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
        return [g.scope_path or "/" for g in self.grants if g.role in (Role.SECRETARY, Role.COMMITTEE, Role.ADMIN)]


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


def can_see_course(viewer: Viewer, audience_paths: list[str]) -> bool:
    """May ``viewer`` see a course whose audience is these org unit subtrees?

    Trainers and admins see every course; anyone sees the courses they are enrolled in; a secretary or
    committee also sees the courses whose audience overlaps their scope (an audience above the scope covers
    it, one below lies within it), so they can follow what their members study.
    """
    if can_manage_content(viewer):
        return True
    if viewer.org_path is not None and is_enrolled(viewer.org_path, audience_paths):
        return True
    return any(is_within(a, s) or is_within(s, a) for s in viewer.oversight_paths() for a in audience_paths)


def can_read_org_unit(viewer: Viewer, unit_path: str) -> bool:
    """May ``viewer`` see this org unit: their own unit, units in their oversight, or any unit for a trainer?

    Trainers see the whole tree (not its members) because they choose each course's audience from it.
    """
    if unit_path == viewer.org_path or can_manage_content(viewer):
        return True
    return any(is_within(unit_path, scope) for scope in viewer.oversight_paths())
