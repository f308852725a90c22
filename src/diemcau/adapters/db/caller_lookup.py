"""The caller of an API request in one Core query: the member, their unit and their grants as plain values.

Every API request resolves its caller. The API keeps each for 60 s, so a playing member (a heartbeat every
15 s) misses one request in four, and through the ORM a miss cost two queries and a graph of objects (~2–5 ms of
CPU: the largest share of progress ingest once the caches were in place; docs/benchmarks.md). This reads the
same facts with one statement over ``members ⋈ org_units ⟕ role_grants ⟕ org_units`` (one row per grant), served
by the ``lower(card_number)`` index. ``load_callers_facts`` reads many callers in the same one statement (the API
coalesces the cache misses of concurrent requests: a crowd that arrived together misses together).
``tests/test_caller_lookup.py`` checks both against the ORM reading for every member of a seeded province, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Row, String, bindparam, func, select
from sqlalchemy.orm import Session

from diemcau.adapters.db.accounts import normalise_username
from diemcau.adapters.db.models import MemberRow, OrgUnitRow, RoleGrantRow
from diemcau.core.orgtree import OrgUnit
from diemcau.core.roles import Grant, Role, Viewer, roles_held

_members, _grants = MemberRow.__table__, RoleGrantRow.__table__
_unit, _scope = OrgUnitRow.__table__.alias("unit"), OrgUnitRow.__table__.alias("scope")
_QUERY = (
    select(
        _members.c.card_number,
        _members.c.full_name,
        _members.c.active,
        _members.c.password_hash.is_not(None),
        _members.c.locked_until,
        _members.c.activation_expires_at,
        _unit.c.code,
        _unit.c.name,
        _unit.c.kind,
        _unit.c.path,
        _grants.c.role,
        _scope.c.path,
    )
    .select_from(
        _members.join(_unit, _members.c.org_unit_id == _unit.c.id)
        .outerjoin(_grants, _grants.c.member_id == _members.c.id)
        .outerjoin(_scope, _grants.c.org_unit_id == _scope.c.id)
    )
    .where(func.lower(_members.c.card_number).in_(bindparam("usernames", expanding=True, type_=String)))
    .order_by(_grants.c.id)
)


@dataclass(frozen=True)
class CallerFacts:
    """What the API needs of its caller, read in one go."""

    card: str  # lower case, as the hub's username
    full_name: str
    unit: OrgUnit
    active: bool
    activated: bool
    locked_until: dt.datetime | None
    activation_expires_at: dt.datetime | None
    grants: tuple[Grant, ...]  # in the order they were granted

    @property
    def roles(self) -> tuple[Role, ...]:
        return roles_held(g.role for g in self.grants)

    @property
    def viewer(self) -> Viewer:
        """The authorization view: the member's unit and their grants with scope paths."""
        return Viewer(self.card, self.unit.path, self.grants)


def load_caller_facts(session: Session, username: str) -> CallerFacts | None:
    """The member whose card number is ``username`` (case-insensitive), or ``None``."""
    return load_callers_facts(session, [username]).get(normalise_username(username))


def load_callers_facts(session: Session, usernames: Iterable[str]) -> dict[str, CallerFacts]:
    """The members whose card numbers are among ``usernames`` (case-insensitive), keyed by normalised username
    (``accounts.normalise_username``); names of no member are left out."""
    wanted = sorted({normalise_username(name) for name in usernames})
    rows_of: dict[str, list[Row]] = defaultdict(list)
    for row in session.execute(_QUERY, {"usernames": wanted}):
        rows_of[row[0].lower()].append(row)
    return {card: _facts(rows) for card, rows in rows_of.items()}


def _facts(rows: list[Row]) -> CallerFacts:
    """One member's facts from their rows (one per grant, in grant order)."""
    card, name, active, activated, locked_until, expires, code, unit_name, kind, path = rows[0][:10]
    grants = tuple(Grant(Role(row[10]), row[11]) for row in rows if row[10] is not None)
    unit = OrgUnit(code, unit_name, kind, path)
    return CallerFacts(card.lower(), name, unit, bool(active), bool(activated), locked_until, expires, grants)
