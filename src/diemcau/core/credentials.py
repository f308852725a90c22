"""Pure rules for logging in: lockout after repeated failures, activation code expiry."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from enum import StrEnum

# Unambiguous on a phone keyboard and when read aloud: no 0/O, 1/I/L.
ACTIVATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ACTIVATION_CODE_LENGTH = 8


class LoginOutcome(StrEnum):
    OK = "ok"
    UNKNOWN_USER = "unknown_user"
    WRONG_PASSWORD = "wrong_password"
    LOCKED = "locked"
    INACTIVE = "inactive"
    NOT_ACTIVATED = "not_activated"


@dataclass(frozen=True)
class LockoutPolicy:
    max_failed: int = 5
    lockout: dt.timedelta = dt.timedelta(minutes=15)


def is_locked(locked_until: dt.datetime | None, now: dt.datetime) -> bool:
    """Is the account locked at ``now``?"""
    return locked_until is not None and now < locked_until


def after_failure(failed: int, now: dt.datetime, policy: LockoutPolicy) -> tuple[int, dt.datetime | None]:
    """The failure count and lock expiry after one more failed login."""
    failed += 1
    if failed >= policy.max_failed:
        return 0, now + policy.lockout
    return failed, None


def new_activation_code() -> str:
    """A random one-time activation code a secretary can read out or send by Zalo."""
    return "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(ACTIVATION_CODE_LENGTH))


def normalise_activation_code(code: str) -> str:
    """Accept the code as typed on a phone: any case, spaces and dashes ignored."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def is_code_expired(expires_at: dt.datetime | None, now: dt.datetime) -> bool:
    return expires_at is None or now >= expires_at
