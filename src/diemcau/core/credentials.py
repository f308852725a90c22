"""Pure rules for logging in: throttling of guesses, the client address behind proxies, activation codes.

Guessing is slowed, never locked: each failure pushes the next allowed attempt out by a delay that doubles up to
a cap, counted separately per account and client address (so an attacker slows themselves, not the member),
per client address across all accounts (so sweeping the roster is slow), and per account across all addresses
with a generous threshold (so many addresses together cannot guess one password quickly). Attempts refused for
waiting are neither verified nor counted, so hammering does not extend anyone's wait. docs/security/login.md
gives the numbers and why.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

# Unambiguous on a phone keyboard and when read aloud: no 0/O, 1/I/L.
ACTIVATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ACTIVATION_CODE_LENGTH = 8
# Throttle keys are stored; a longer "card number" is no card number and is cut, not stored whole.
MAX_KEY_LENGTH = 64


class LoginOutcome(StrEnum):
    OK = "ok"
    UNKNOWN_USER = "unknown_user"
    WRONG_PASSWORD = "wrong_password"
    THROTTLED = "throttled"
    INACTIVE = "inactive"
    NOT_ACTIVATED = "not_activated"


@dataclass(frozen=True)
class Backoff:
    """How one throttle counter slows guessing: ``free`` failures cost nothing, then each further failure makes
    the next attempt wait ``first``, doubling each time, never more than ``cap``."""

    free: int
    first: dt.timedelta
    cap: dt.timedelta

    def delay(self, failures: int) -> dt.timedelta:
        """The wait after the last of ``failures`` failures."""
        if failures < self.free or failures <= 0:
            return dt.timedelta(0)
        doublings = min(failures - self.free, 32)  # 2**32 × any first delay is past any cap
        return min(self.cap, self.first * 2**doublings)


class Scope(StrEnum):
    """What a throttle counter counts failures of."""

    PAIR = "pair"  # one account from one client address
    ADDRESS = "address"  # one client address, all accounts (known or not)
    ACCOUNT = "account"  # one account (known or not), all addresses


# The first wait after the free failures; each further failure doubles it, up to the scope's cap.
FIRST_WAIT = dt.timedelta(seconds=2)


@dataclass(frozen=True)
class ThrottlePolicy:
    """The backoff of each scope, and how long after its last failure a counter is forgotten."""

    pair: Backoff = Backoff(5, dt.timedelta(seconds=2), dt.timedelta(seconds=60))
    address: Backoff = Backoff(20, dt.timedelta(seconds=2), dt.timedelta(minutes=10))
    account: Backoff = Backoff(30, dt.timedelta(seconds=2), dt.timedelta(seconds=60))
    forget_after: dt.timedelta = dt.timedelta(hours=1)

    def __post_init__(self) -> None:
        longest = max(b.cap for b in (self.pair, self.address, self.account))
        if self.forget_after <= longest:
            raise ValueError("forget_after must be longer than the longest wait, or a wait would be forgotten early")

    def backoff(self, scope: Scope) -> Backoff:
        return {Scope.PAIR: self.pair, Scope.ADDRESS: self.address, Scope.ACCOUNT: self.account}[scope]


def throttle_policy(
    free_failures: int,
    account_free_failures: int,
    address_free_failures: int,
    max_wait_seconds: int,
    address_max_wait_seconds: int,
    forget_after_minutes: int,
) -> ThrottlePolicy:
    """The policy from its settings (``[auth]``): each backoff starts at ``FIRST_WAIT``; the account's caps at the
    member's longest wait, the address's at its own."""
    account_cap, address_cap = dt.timedelta(seconds=max_wait_seconds), dt.timedelta(seconds=address_max_wait_seconds)
    return ThrottlePolicy(
        pair=Backoff(free_failures, FIRST_WAIT, account_cap),
        address=Backoff(address_free_failures, FIRST_WAIT, address_cap),
        account=Backoff(account_free_failures, FIRST_WAIT, account_cap),
        forget_after=dt.timedelta(minutes=forget_after_minutes),
    )


@dataclass(frozen=True)
class FailureCount:
    """A throttle counter as stored: failures so far and when the last one happened."""

    failures: int = 0
    last_failure: dt.datetime | None = None


def current(count: FailureCount, policy: ThrottlePolicy, now: dt.datetime) -> FailureCount:
    """The counter at ``now``: forgotten (zero) once ``forget_after`` has passed since its last failure."""
    if count.last_failure is None or now - count.last_failure >= policy.forget_after:
        return FailureCount()
    return count


def wait_of(count: FailureCount, backoff: Backoff, policy: ThrottlePolicy, now: dt.datetime) -> dt.timedelta:
    """How long, from ``now``, an attempt under this counter must still wait (zero: it may be tried now)."""
    count = current(count, policy, now)
    delay = backoff.delay(count.failures)
    if count.last_failure is None or not delay:
        return dt.timedelta(0)
    # Never more than the delay itself: a failure stamped by a hub whose clock runs ahead must not add its lead.
    return min(delay, max(dt.timedelta(0), count.last_failure + delay - now))


def after_failure(count: FailureCount, policy: ThrottlePolicy, now: dt.datetime) -> FailureCount:
    """The counter after one more failure at ``now``."""
    return FailureCount(current(count, policy, now).failures + 1, now)


def refusal_key(outcome: LoginOutcome) -> str:
    """The message (under ``login.``) a refused login gets. One message for an unknown card, a wrong password, an
    account not activated or no longer active: any difference would tell a stranger which card numbers exist."""
    return "throttled" if outcome == LoginOutcome.THROTTLED else "failed"


def throttle_keys(username: str, address: str) -> dict[Scope, str]:
    """The counters an attempt on ``username`` (as normalised) from ``address`` is counted under."""
    account = username[:MAX_KEY_LENGTH]
    return {Scope.PAIR: f"{account} {address}", Scope.ADDRESS: address, Scope.ACCOUNT: account}


def wait_seconds(wait: dt.timedelta) -> int:
    """A wait as the whole seconds a member is told to wait (rounded up: never told to retry too early)."""
    return -int(-wait.total_seconds() // 1)


def parse_networks(entries: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Proxy addresses or networks as configured (``127.0.0.1``, ``10.0.0.0/8``); raises ``ValueError``."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 client seen on a dual-stack socket is the same client as its IPv4 address.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def client_address(
    peer: str, forwarded_for: Iterable[str], trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> str:
    """The address a request came from: the connection's ``peer``, or, while each hop is a ``trusted`` proxy,
    the next address to the left in ``X-Forwarded-For`` (each header value as received, in order).

    The right-most untrusted address wins: everything left of it was written by the client and proves nothing.
    A malformed entry ends the walk at the last hop that is known, so junk can never name a chosen address."""
    hop = _parse_ip(peer)
    if hop is None:
        return peer.strip()[:MAX_KEY_LENGTH] or "unknown"
    chain = [entry for value in forwarded_for for entry in value.split(",")]
    for entry in reversed(chain):
        if not any(hop in network for network in trusted):
            break
        previous = _parse_ip(entry)
        if previous is None:
            break
        hop = previous
    return str(hop)


def new_activation_code() -> str:
    """A random one-time activation code a secretary can read out or send by Zalo."""
    return "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(ACTIVATION_CODE_LENGTH))


def normalise_activation_code(code: str) -> str:
    """Accept the code as typed on a phone: any case, spaces and dashes ignored."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def is_code_expired(expires_at: dt.datetime | None, now: dt.datetime) -> bool:
    return expires_at is None or now >= expires_at
