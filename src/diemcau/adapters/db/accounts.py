"""Member accounts: password login with lockout, one-time activation codes, resets, and the viewer model."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import MemberRow, OrgUnitRow, RoleGrantRow
from diemcau.adapters.passwords import hash_secret, verify_secret
from diemcau.core.credentials import (
    LockoutPolicy,
    LoginOutcome,
    after_failure,
    is_code_expired,
    is_locked,
    new_activation_code,
    normalise_activation_code,
)
from diemcau.core.roles import Role, roles_held


class AccountError(Exception):
    """An account operation that cannot proceed; ``code`` is a message catalogue key under ``login.``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Account:
    """What the hub needs to know about a member who logged in."""

    username: str
    full_name: str
    org_codes: tuple[str, ...]
    roles: tuple[Role, ...]

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles


def utcnow() -> dt.datetime:
    """Naive UTC now: the database stores naive UTC timestamps."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def normalise_username(username: str) -> str:
    """Card numbers as typed: spaces dropped, compared case-insensitively (hub usernames are lowercase)."""
    return "".join(username.split()).lower()


def find_member(session: Session, username: str) -> MemberRow | None:
    """The member whose card number is ``username`` (case-insensitive), with org unit and grants loaded.

    ``lower(card_number)`` is served by the index ``ix_members_card_number_lower`` (``models_perf``)."""
    query = (
        select(MemberRow)
        .where(func.lower(MemberRow.card_number) == normalise_username(username))
        # Two queries, not four: the unit joined in, the grants with their units in one more.
        .options(joinedload(MemberRow.org_unit), selectinload(MemberRow.grants).joinedload(RoleGrantRow.org_unit))
    )
    return session.scalars(query).first()


def account_of(member: MemberRow) -> Account:
    """The hub's view of a member: org units from the root down and the roles held."""
    roles = roles_held(Role(g.role) for g in member.grants)
    org_codes = tuple(member.org_unit.path.strip("/").split("/"))
    return Account(member.card_number.lower(), member.full_name, org_codes, roles)


def _record_failure(member: MemberRow, now: dt.datetime, policy: LockoutPolicy) -> None:
    member.failed_logins, locked_until = after_failure(member.failed_logins, now, policy)
    if locked_until is not None:
        member.locked_until = locked_until


def check_login(
    factory: sessionmaker[Session], username: str, password: str, policy: LockoutPolicy, now: dt.datetime | None = None
) -> tuple[LoginOutcome, Account | None]:
    """Check a password login, counting failures toward a lockout; returns the outcome and, if OK, the account."""
    now = now or utcnow()
    with transaction(factory) as session:
        member = find_member(session, username)
        if member is None:
            return LoginOutcome.UNKNOWN_USER, None
        if not member.active:
            return LoginOutcome.INACTIVE, None
        if is_locked(member.locked_until, now):
            return LoginOutcome.LOCKED, None
        if member.password_hash is None:
            return LoginOutcome.NOT_ACTIVATED, None
        if not verify_secret(member.password_hash, password):
            _record_failure(member, now, policy)
            return (LoginOutcome.LOCKED if is_locked(member.locked_until, now) else LoginOutcome.WRONG_PASSWORD), None
        member.failed_logins, member.locked_until = 0, None
        return LoginOutcome.OK, account_of(member)


def issue_activation_code(
    factory: sessionmaker[Session], username: str, valid_for: dt.timedelta, *, reset_password: bool = False
) -> str:
    """A new one-time activation code for the member (replacing any older one); optionally clear the password."""
    code = new_activation_code()
    with transaction(factory) as session:
        member = find_member(session, username)
        if member is None:
            raise AccountError("unknown_user")
        member.activation_code_hash = hash_secret(code)
        member.activation_expires_at = utcnow() + valid_for
        member.failed_logins, member.locked_until = 0, None
        if reset_password:
            member.password_hash = None
    return code


def activate(
    factory: sessionmaker[Session],
    username: str,
    code: str,
    new_password: str,
    policy: LockoutPolicy,
    min_length: int,
    now: dt.datetime | None = None,
) -> Account:
    """Set a member's password with a valid activation code, which is then spent. Raises ``AccountError``."""
    now = now or utcnow()
    if len(new_password) < min_length:
        raise AccountError("password_too_short")
    with transaction(factory) as session:
        member = find_member(session, username)
        if member is None or not member.active:
            raise AccountError("unknown_user")
        if is_locked(member.locked_until, now):
            raise AccountError("locked")
        if member.activation_code_hash is None:
            raise AccountError("no_activation_code")
        if not verify_secret(member.activation_code_hash, normalise_activation_code(code)):
            _record_failure(member, now, policy)
            failure = "locked" if is_locked(member.locked_until, now) else "wrong_activation_code"
        elif is_code_expired(member.activation_expires_at, now):
            failure = "activation_code_expired"
        else:
            member.password_hash = hash_secret(new_password)
            member.activation_code_hash = member.activation_expires_at = None
            member.failed_logins, member.locked_until = 0, None
            return account_of(member)
    raise AccountError(failure)


def set_password(factory: sessionmaker[Session], username: str, password: str) -> None:
    """Set a password directly (operators and the demo loader); clears any lockout."""
    with transaction(factory) as session:
        member = find_member(session, username)
        if member is None:
            raise AccountError("unknown_user")
        member.password_hash = hash_secret(password)
        member.failed_logins, member.locked_until = 0, None


def unlock(factory: sessionmaker[Session], username: str) -> None:
    """Lift a lockout before it expires."""
    with transaction(factory) as session:
        member = find_member(session, username)
        if member is None:
            raise AccountError("unknown_user")
        member.failed_logins, member.locked_until = 0, None


def grant_role(factory: sessionmaker[Session], username: str, role: Role, org_code: str | None) -> None:
    """Grant ``role`` over the subtree of ``org_code`` (``None``: everywhere); idempotent."""
    with transaction(factory) as session:
        member = find_member(session, username)
        if member is None:
            raise AccountError("unknown_user")
        unit_id = None
        if org_code is not None:
            unit = session.scalars(select(OrgUnitRow).where(OrgUnitRow.code == org_code)).first()
            if unit is None:
                raise AccountError("unknown_org_unit")
            unit_id = unit.id
        if not any(g.role == role and g.org_unit_id == unit_id for g in member.grants):
            member.grants.append(RoleGrantRow(role=str(role), org_unit_id=unit_id))
