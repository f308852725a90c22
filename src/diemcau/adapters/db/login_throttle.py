"""Login throttle counters in the database, so every hub process, and a restarted one, sees the same waits.

The rules are pure (``core.credentials``); this module only reads and writes counters, inside the caller's
transaction. An attempt is counted as a failure *before* its secret is checked (``reserve``) and forgiven after
a success (``forgive``): otherwise many attempts sent at once would all pass the check before any was counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import LoginThrottleRow
from diemcau.core.credentials import FailureCount, Scope, ThrottlePolicy, after_failure, throttle_keys, wait_of

_TABLE = LoginThrottleRow.__table__
_INSERT_IF_MISSING = {
    "sqlite": sqlite.insert(_TABLE).on_conflict_do_nothing(index_elements=["scope", "key"]),
    "postgresql": postgresql.insert(_TABLE).on_conflict_do_nothing(index_elements=["scope", "key"]),
}


def _rows(session: Session, keys: dict[Scope, str]) -> dict[Scope, LoginThrottleRow]:
    """The counters of ``keys``, created if missing (concurrent creators do not collide) and locked for update."""
    statement = _INSERT_IF_MISSING[session.get_bind().dialect.name]
    session.execute(statement, [{"scope": str(s), "key": k, "failures": 0} for s, k in keys.items()])
    match = or_(*(and_(LoginThrottleRow.scope == str(s), LoginThrottleRow.key == k) for s, k in keys.items()))
    # Locked in one order by every attempt, so two attempts never wait on each other's rows crosswise.
    query = select(LoginThrottleRow).where(match).order_by(LoginThrottleRow.scope, LoginThrottleRow.key)
    return {Scope(row.scope): row for row in session.scalars(query.with_for_update())}


def reserve(session: Session, username: str, address: str, policy: ThrottlePolicy, now: dt.datetime) -> dt.timedelta:
    """How long an attempt on ``username`` from ``address`` must still wait. Zero: it may be checked, and it is
    counted as a failure now (``forgive`` takes that back if it succeeds). Non-zero: nothing is counted."""
    rows = _rows(session, throttle_keys(username, address))
    counts = {scope: FailureCount(row.failures, row.last_failure) for scope, row in rows.items()}
    wait = max(wait_of(count, policy.backoff(scope), policy, now) for scope, count in counts.items())
    if wait:
        return wait
    for scope, row in rows.items():
        counted = after_failure(counts[scope], policy, now)
        row.failures, row.last_failure = counted.failures, counted.last_failure
    return wait


def forgive(session: Session, username: str, address: str) -> None:
    """After a success: this address proved it knows the secret, so its counter on the account goes; the
    account's and the address's own counters only lose the attempt ``reserve`` counted (an attacker who also
    holds one real account must not wipe their address's record by logging in to it)."""
    keys = throttle_keys(username, address)
    rows = _rows(session, keys)
    session.delete(rows[Scope.PAIR])
    for scope in (Scope.ACCOUNT, Scope.ADDRESS):
        rows[scope].failures = max(0, rows[scope].failures - 1)


def forget_account(session: Session, username: str) -> None:
    """Clear every counter of one account (an operator's unlock, a new activation code); addresses keep theirs."""
    account = throttle_keys(username, "")[Scope.ACCOUNT]
    session.execute(
        delete(LoginThrottleRow).where(
            or_(
                and_(LoginThrottleRow.scope == str(Scope.ACCOUNT), LoginThrottleRow.key == account),
                and_(
                    LoginThrottleRow.scope == str(Scope.PAIR),
                    LoginThrottleRow.key.startswith(f"{account} ", autoescape=True),
                ),
            )
        )
    )


def account_waits(
    factory: sessionmaker[Session], usernames: Iterable[str], policy: ThrottlePolicy, now: dt.datetime
) -> dict[str, dt.timedelta]:
    """How long the next attempt on each of ``usernames`` must wait at worst (absent: not at all): the account's own
    counter, and each address's counter on it (what a secretary needs when a member says they cannot log in).
    One read of the counters not yet forgotten, whatever the number of accounts (the table holds only those)."""
    accounts = {throttle_keys(name, "")[Scope.ACCOUNT]: name for name in usernames}
    recent = LoginThrottleRow.last_failure > now - policy.forget_after
    query = select(LoginThrottleRow).where(LoginThrottleRow.scope.in_([str(Scope.ACCOUNT), str(Scope.PAIR)]), recent)
    waits: dict[str, dt.timedelta] = {}
    with factory() as session:
        for row in session.scalars(query):
            name = accounts.get(row.key if row.scope == str(Scope.ACCOUNT) else row.key.split(" ", 1)[0])
            wait = wait_of(FailureCount(row.failures, row.last_failure), policy.backoff(Scope(row.scope)), policy, now)
            if name is not None and wait:
                waits[name] = max(wait, waits.get(name, wait))
    return waits


def prune(factory: sessionmaker[Session], policy: ThrottlePolicy, now: dt.datetime) -> int:
    """Delete counters that are forgotten anyway (no failure for ``forget_after``); returns how many went."""
    stale = or_(LoginThrottleRow.last_failure.is_(None), LoginThrottleRow.last_failure <= now - policy.forget_after)
    with transaction(factory) as session:
        return session.execute(delete(LoginThrottleRow).where(stale)).rowcount or 0
