"""The job queue in tests, on both backends: SQLite (a file in the data directory, the default) and Redis.

Redis comes from ``scripts/ensure_redis.sh`` (run by ``make test``), reachable at ``$DIEMCAU_TEST_REDIS_URL``
(database 1; 0 is left to people and ``make demo``). Every test process has its own queue name there
(``jobs.queue_name``: all of huey's keys carry it), so the two xdist processes of ``make test``, the later phase
and other checkouts' runs sharing the server never see each other's tasks; a test's queue is emptied before it
starts. Without Redis the Redis cases are skipped locally; ``make test`` sets ``DIEMCAU_REQUIRE_REDIS=1`` so a
missing server fails the run instead.
"""

from __future__ import annotations

import os

import pytest
import redis

from diemcau.settings import JobsSettings, Settings

QUEUE_BACKENDS = ["sqlite", pytest.param("redis", marks=pytest.mark.redis)]
"""Parametrize a test's ``queue_backend`` with these to run it on both queues (the ``settings`` fixture follows)."""
REDIS_URL = os.environ.get("DIEMCAU_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
REDIS_QUEUE = f"diemcau_test_{os.getpid()}"
"""This test process's queue name on the shared Redis: its keys are huey.{redis,schedule,results,counters}.<name>."""


def _keys(name: str) -> list[str]:
    return [f"huey.{kind}.{name}" for kind in ("redis", "schedule", "results", "counters")]


def clear_redis_queue(name: str = REDIS_QUEUE) -> bool:
    """Delete the queue's keys on the test Redis; ``False`` if Redis does not answer."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.delete(*_keys(name))
    except redis.RedisError:
        return False
    finally:
        client.close()
    return True


def queue_on(backend: str) -> dict[str, str]:
    """The ``DIEMCAU_JOBS__*`` environment of an empty queue on ``backend`` (``sqlite``: the defaults, a file in
    the test's data directory; ``redis``: this process's queue on the test Redis, emptied now)."""
    if backend == "sqlite":
        return {}
    if not clear_redis_queue():
        if os.environ.get("DIEMCAU_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required but not reachable at {REDIS_URL}; run scripts/ensure_redis.sh")
        pytest.skip("Redis not running (make test starts it)")
    return {
        "DIEMCAU_JOBS__BACKEND": "redis",
        "DIEMCAU_JOBS__REDIS_URL": REDIS_URL,
        "DIEMCAU_JOBS__QUEUE_NAME": REDIS_QUEUE,
    }


def queue_of_stack(database_url: str) -> dict[str, str]:
    """The queue deployed beside a database: Redis beside PostgreSQL (the scaled-out platform), SQLite beside
    SQLite. Tests already run on both databases get both queues this way, at no extra cost."""
    return queue_on("redis" if database_url.startswith("postgresql") else "sqlite")


def on_queue(settings: Settings, environ: dict[str, str]) -> Settings:
    """``settings`` with the queue that ``environ`` (from ``queue_on``) describes."""
    jobs = {key.removeprefix("DIEMCAU_JOBS__").lower(): value for key, value in environ.items()}
    return settings.model_copy(update={"jobs": JobsSettings(**(settings.jobs.model_dump() | jobs))})


def queue_environ_of(settings: Settings) -> dict[str, str]:
    """The environment that gives a worker process ``settings``' queue."""
    jobs = settings.jobs
    return {
        "DIEMCAU_JOBS__BACKEND": jobs.backend,
        "DIEMCAU_JOBS__REDIS_URL": jobs.redis_url,
        "DIEMCAU_JOBS__QUEUE_NAME": jobs.queue_name,
    }
