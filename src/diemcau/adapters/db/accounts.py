"""Member accounts: throttled password login, one-time activation codes, resets, and the viewer model."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload, selectinload, sessionmaker

from diemcau.adapters.db import login_throttle
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import MemberRow, OrgUnitRow, RoleGrantRow
from diemcau.adapters.passwords import SecretVerifier
from diemcau.core.credentials import (
    LoginOutcome,
    ThrottlePolicy,
    is_code_expired,
    new_activation_code,
    normalise_activation_code,
)
from diemcau.core.roles import Role, roles_held


class AccountError(Exception):
    """An account operation that cannot proceed; ``code`` is a message catalogue key under ``login.``, ``wait``
    how long a throttled attempt must wait."""

    def __init__(self, code: str, wait: dt.timedelta = dt.timedelta(0)) -> None:
        super().__init__(code)
        self.code = code
        self.wait = wait


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


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt came to: the outcome, the account if it succeeded, the wait if throttled."""

    outcome: LoginOutcome
    account: Account | None = None
    wait: dt.timedelta = dt.timedelta(0)


@dataclass(frozen=True)
class _Attempt:
    """What the first transaction of an attempt read: its wait, or the hash to check."""

    wait: dt.timedelta
    stored_hash: str | None = None
    refusal: LoginOutcome | None = None  # refused whatever the secret: an unknown card, an inactive member
    expires_at: dt.datetime | None = None
    spent_hash: str | None = None  # the activation code used last (activation only)


def _begin_attempt(
    factory: sessionmaker[Session],
    username: str,
    address: str,
    policy: ThrottlePolicy,
    now: dt.datetime,
    secret: InstrumentedAttribute[str | None],
) -> _Attempt:
    """Count the attempt (or say how long it must wait) and read the hash (``secret``) it is to be checked against.

    One single-row read whether the card exists or not (the account itself is loaded only after a success), so
    the database adds no time difference for Argon2 to hide."""
    query = select(MemberRow.active, secret, MemberRow.activation_expires_at, MemberRow.spent_code_hash).where(
        func.lower(MemberRow.card_number) == normalise_username(username)
    )
    with transaction(factory) as session:
        wait = login_throttle.reserve(session, normalise_username(username), address, policy, now)
        if wait:
            return _Attempt(wait)
        row = session.execute(query).first()
    if row is None:
        return _Attempt(wait, refusal=LoginOutcome.UNKNOWN_USER)
    active, stored_hash, expires_at, spent_hash = row
    if not active:
        return _Attempt(wait, refusal=LoginOutcome.INACTIVE)
    return _Attempt(wait, stored_hash, None, expires_at, spent_hash)


def check_login(
    factory: sessionmaker[Session],
    username: str,
    password: str,
    *,
    address: str,
    policy: ThrottlePolicy,
    verifier: SecretVerifier,
    now: dt.datetime | None = None,
) -> LoginResult:
    """Check a password login from client ``address`` under the throttle ``policy``.

    Every attempt that is not told to wait costs one Argon2 verification, against a dummy hash when the card is
    unknown, inactive or has no password, so no answer is faster for a card that does not exist. The secret is
    checked outside any transaction: the database is not held while Argon2 runs."""
    now = now or utcnow()
    attempt = _begin_attempt(factory, username, address, policy, now, MemberRow.password_hash)
    if attempt.wait:
        return LoginResult(LoginOutcome.THROTTLED, wait=attempt.wait)
    matched = verifier.verify(attempt.stored_hash, password)  # a refusal has no hash: the dummy is checked
    if attempt.refusal:
        return LoginResult(attempt.refusal)
    if attempt.stored_hash is None:
        return LoginResult(LoginOutcome.NOT_ACTIVATED)
    if not matched:
        return LoginResult(LoginOutcome.WRONG_PASSWORD)
    with transaction(factory) as session:
        login_throttle.forgive(session, normalise_username(username), address)
        member = find_member(session, username)
        if member is None or not member.active or member.password_hash != attempt.stored_hash:
            return LoginResult(LoginOutcome.WRONG_PASSWORD)  # removed, deactivated or password changed meanwhile
        return LoginResult(LoginOutcome.OK, account_of(member))


def issue_activation_code(
    factory: sessionmaker[Session],
    username: str,
    valid_for: dt.timedelta,
    *,
    verifier: SecretVerifier,
    reset_password: bool = False,
) -> str:
    """A new one-time activation code for the member (replacing any older one); optionally clear the password.
    The account's throttle is cleared, so the member can use the code at once."""
    code = new_activation_code()
    code_hash = verifier.hash(code)  # before the transaction: Argon2 must not hold the database
    with transaction(factory) as session:
        member = find_member(session, username)
        if member is None:
            raise AccountError("unknown_user")
        member.activation_code_hash = code_hash
        member.activation_expires_at = utcnow() + valid_for
        _clear_lock(session, member)
        if reset_password:  # no longer activated: a spent code no longer says so
            member.password_hash = member.spent_code_hash = None
    return code


def activate(
    factory: sessionmaker[Session],
    username: str,
    code: str,
    new_password: str,
    min_length: int,
    *,
    address: str,
    policy: ThrottlePolicy,
    verifier: SecretVerifier,
    now: dt.datetime | None = None,
) -> Account:
    """Set a member's password with a valid activation code, which is then spent. Raises ``AccountError``.

    Throttled like a login, under the same counters (a code is a secret too), and as silent about which cards
    exist: an unknown card, an inactive member, no code and a wrong code all fail alike, after two verifications
    (the code, then the spent code: against the dummy hash where there is none). Only whoever types the code that
    activated the account is told that it was used (``activation_code_used``): the account is already active."""
    now = now or utcnow()
    if len(new_password) < min_length:
        raise AccountError("password_too_short")
    attempt = _begin_attempt(factory, username, address, policy, now, MemberRow.activation_code_hash)
    if attempt.wait:
        raise AccountError("throttled", attempt.wait)
    typed = normalise_activation_code(code)
    if not verifier.verify(attempt.stored_hash, typed) or attempt.refusal:
        spent = verifier.verify(attempt.spent_hash, typed)  # always checked, so every refusal takes as long
        raise AccountError("activation_code_used" if spent and not attempt.refusal else "activation_failed")
    if is_code_expired(attempt.expires_at, now):  # told only to whoever holds the right code
        raise AccountError("activation_code_expired")
    new_hash = verifier.hash(new_password)  # before the transaction: Argon2 must not hold the database
    with transaction(factory) as session:
        member = find_member(session, username)
        if member is None or not member.active or member.activation_code_hash != attempt.stored_hash:
            raise AccountError("activation_failed")  # the code was spent or replaced meanwhile
        member.password_hash = new_hash
        member.spent_code_hash = member.activation_code_hash
        member.activation_code_hash = member.activation_expires_at = None
        login_throttle.forgive(session, normalise_username(username), address)
        _clear_lock(session, member)
        return account_of(member)


def _clear_lock(session: Session, member: MemberRow) -> None:
    """Clear the account's throttle counters (and the lock columns logins no longer set)."""
    member.failed_logins, member.locked_until = 0, None
    login_throttle.forget_account(session, normalise_username(member.card_number))


def set_password(factory: sessionmaker[Session], username: str, password: str, *, verifier: SecretVerifier) -> None:
    """Set a password directly (operators and the demo loader); clears the account's login throttle."""
    password_hash = verifier.hash(password)  # before the transaction: Argon2 must not hold the database
    with transaction(factory) as session:
        member = find_member(session, username)
        if member is None:
            raise AccountError("unknown_user")
        member.password_hash = password_hash
        _clear_lock(session, member)


def unlock(factory: sessionmaker[Session], username: str) -> None:
    """Let a member try again at once: clears the account's throttle (other addresses' counters stay)."""
    with transaction(factory) as session:
        member = find_member(session, username)
        if member is None:
            raise AccountError("unknown_user")
        _clear_lock(session, member)


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
