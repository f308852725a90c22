"""Password and activation-code hashing with Argon2id (argon2-cffi)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_secret(secret: str) -> str:
    """An Argon2id hash of ``secret``, salted, in PHC string format."""
    return _hasher.hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """Does ``secret`` match ``stored_hash``? A missing or malformed hash never matches."""
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


class SecretVerifier:
    """Checks a secret against a stored hash, taking an Argon2 verification's time even when there is no hash.

    A login for an unknown card, or for an account without a password or code, is checked against a dummy hash
    made with the same parameters, so its answer comes no faster than a wrong password's."""

    def __init__(self) -> None:
        self._dummy_hash = hash_secret(secrets.token_urlsafe(16))

    def verify(self, stored_hash: str | None, secret: str) -> bool:
        """Does ``secret`` match ``stored_hash``? Without a hash: spend the same time, then no."""
        if stored_hash:
            return verify_secret(stored_hash, secret)
        verify_secret(self._dummy_hash, secret)
        return False
