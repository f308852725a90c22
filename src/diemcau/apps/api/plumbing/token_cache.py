"""What the hub said about a token, remembered for ``TOKEN_CACHE_SECONDS``: in this process and, where the API
runs as several replicas on Redis, in Redis for all of them.

A heartbeat, page or media request carries the member's hub token; only the hub knows whose it is, and the hub is
one process (docs/deploy-kubernetes.md, "Limits, named"). Each replica remembering answers for itself is not
enough: nginx spreads a member's requests over every replica, so with N replicas the hub would be asked about
each playing member's token N times a minute (a province of 200,000 at the evening peak, 19,800 playing, ten
replicas: 3,300 checks a second). Shared through Redis, it is asked once a minute per member whatever N.

The order of a lookup: this process's entries, then Redis, then the hub (``HubIdentity``). Only tokens the hub
accepted for this service are kept, under the token's SHA-256 (never the token itself), with the moment the
first answer expires: every replica forgets it then, so a token revoked at the hub stops working everywhere
within ``TOKEN_CACHE_SECONDS``, as with one process. If Redis does not answer, the hub is asked (and the failure
logged once a minute), and Redis is left alone for ``REDIS_REST_SECONDS`` so no request waits on it: the shared
cache saves the hub work, it never decides who may enter.
"""

from __future__ import annotations

import hashlib
import logging
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from diemcau.settings import Settings

log = logging.getLogger(__name__)
TOKEN_CACHE_SECONDS = 60
MAX_LOCAL_ENTRIES = 50_000  # tokens kept in one process (each a few hundred bytes); the oldest go first
REDIS_TIMEOUT_SECONDS = 0.5  # a lookup that takes longer asks the hub instead
REDIS_REST_SECONDS = 5.0  # after Redis failed, it is left alone this long (no request waits on a dead Redis)
COMPLAINT_SECONDS = 60.0  # at most one log line this often about an unreachable Redis


def digest(token: str) -> str:
    """The name a token is kept under: its SHA-256, so neither memory nor Redis holds a usable token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenCache:
    """Accepted tokens' usernames until their first answer expires; shared through ``shared`` (a Redis client)
    under ``prefix`` when given."""

    def __init__(
        self, seconds: float = TOKEN_CACHE_SECONDS, shared: redis.Redis | None = None, prefix: str = "diemcau"
    ) -> None:
        self.seconds, self.shared, self.prefix = seconds, shared, f"{prefix}:token:"
        self._local: dict[str, tuple[str, float]] = {}  # digest -> (username, expires at, wall clock)
        self._complained = self._failed = float("-inf")

    def get(self, token: str) -> str | None:
        """The username the hub gave for ``token`` within the last ``seconds``, if known here or in Redis."""
        key, now = digest(token), time.time()
        entry = self._local.get(key)
        if entry is not None and entry[1] > now:
            return entry[0]
        self._local.pop(key, None)
        if not self._redis_usable():
            return None
        try:
            value = self.shared.get(self.prefix + key)  # type: ignore[union-attr]
        except redis.RedisError as error:
            self._complain(error)
            return None
        if value is None:
            return None
        try:
            stamp, _, username = value.decode("utf-8").partition(" ")
            until = float(stamp)
        except (UnicodeDecodeError, ValueError):  # not written by ``put``: as if absent
            return None
        if until <= now or not username:
            return None
        self._keep(key, username, until)
        return username

    def put(self, token: str, username: str) -> None:
        """Remember that the hub accepted ``token`` as ``username`` now (here, and in Redis if shared)."""
        key, until = digest(token), time.time() + self.seconds
        self._keep(key, username, until)
        if not self._redis_usable():
            return
        try:  # the first answer's expiry wins: a replica that asked the hub later does not extend it
            self.shared.set(  # type: ignore[union-attr]
                self.prefix + key, f"{until} {username}", px=int(self.seconds * 1000), nx=True
            )
        except redis.RedisError as error:
            self._complain(error)

    def forget(self, token: str) -> None:
        """Forget ``token`` here and in Redis (its member logged out): the next request with it asks the hub."""
        key = digest(token)
        self._local.pop(key, None)
        if not self._redis_usable():
            return
        try:
            self.shared.delete(self.prefix + key)  # type: ignore[union-attr]
        except redis.RedisError as error:
            self._complain(error)

    def _keep(self, key: str, username: str, until: float) -> None:
        if key not in self._local and len(self._local) >= MAX_LOCAL_ENTRIES:  # full: the oldest kept goes
            del self._local[next(iter(self._local))]
        self._local[key] = (username, until)

    def _redis_usable(self) -> bool:
        return self.shared is not None and time.monotonic() - self._failed >= REDIS_REST_SECONDS

    def _complain(self, error: Exception) -> None:
        now = time.monotonic()
        self._failed = now
        if now - self._complained >= COMPLAINT_SECONDS:
            self._complained = now
            log.warning("the shared token cache (Redis) did not answer; asking the hub instead: %s", error)


def token_cache_for(settings: Settings) -> TokenCache:
    """The token cache of an API process: shared through the job queue's Redis when the deployment has one
    (``jobs.backend = "redis"``: API replicas on several hosts), else this process's own."""
    if settings.jobs.backend != "redis":
        return TokenCache()
    client = redis.Redis.from_url(
        settings.jobs.redis_url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),  # one try: the hub is the fallback, not a second wait
    )
    return TokenCache(shared=client, prefix=settings.jobs.queue_name)
