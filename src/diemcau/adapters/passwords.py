"""Password and activation-code hashing with Argon2id (argon2-cffi), at the cost that ``auth.argon2_*`` sets."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

if TYPE_CHECKING:
    from diemcau.settings import AuthSettings


class SecretVerifier:
    """Hashes secrets at one Argon2id cost, and checks a secret against a stored hash, taking an Argon2
    verification's time even when there is no hash.

    The defaults are RFC 9106's low-memory profile (t=3, m=64 MiB, p=4), argon2-cffi's own. Verification reads the
    parameters from the stored PHC string, so hashes made at another cost still verify (they are not rehashed).
    A login for an unknown card, or for an account without a password or code, is checked against a dummy hash
    made at this verifier's cost, so its answer comes no faster than a wrong password's."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
        self._dummy_hash = self.hash(secrets.token_urlsafe(16))

    @classmethod
    def from_settings(cls, auth: AuthSettings) -> SecretVerifier:
        """The verifier at the cost of ``auth.argon2_*``."""
        return cls(auth.argon2_time_cost, auth.argon2_memory_kib, auth.argon2_parallelism)

    def hash(self, secret: str) -> str:
        """An Argon2id hash of ``secret``, salted, in PHC string format."""
        return self._hasher.hash(secret)

    def verify(self, stored_hash: str | None, secret: str) -> bool:
        """Does ``secret`` match ``stored_hash``? A malformed hash never matches; without a hash: spend the same
        time against the dummy hash, then no."""
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, secret) and bool(stored_hash)
        except (VerificationError, InvalidHashError):
            return False
