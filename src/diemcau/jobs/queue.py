"""The process-wide job queue (huey). Tasks register on ``huey``; ``configure_queue`` points it at storage.

Storage follows the settings: a SQLite file in the data directory on the embedded default, Redis when scaled out
(``jobs.backend``, ``jobs.redis_url``; docs/architecture.md, "The job queue on Redis"). On both, a worker takes a
task off the queue as it starts it (SQLite deletes the row, Redis pops the list), so a worker that dies mid-task
loses the task, and Redis may lose what it holds (a restart without persistence). The queue is therefore not
where the platform keeps its state: every job has its row in the database (status, lease: ``jobs.lease``), tasks
are idempotent and resumable, and every worker's recovery sweeps queue again the jobs whose holder is gone or
whose task is no longer queued. huey keeps no results (``results=False``): nobody reads them, and in Redis they
would pile up for ever.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from huey import Huey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper
from huey.storage import RedisStorage
from redis import ConnectionPool
from redis.exceptions import RedisError

from diemcau.settings import Settings, hide_password

QUEUE_NAME = "diemcau"
T = TypeVar("T")
CONNECT_SECONDS = 5.0
"""How long a Redis connection may take to open: an unreachable host fails in seconds, not the system's minutes."""


class QueueUnavailable(Exception):
    """The queue's storage cannot be reached (or refused us); the message names it, never with its password."""


def location(settings: Settings) -> str:
    """Where the settings' queue lives (its backend, address and name)."""
    if settings.jobs.backend == "redis":
        return f"redis:{settings.jobs.redis_url}#{settings.jobs.queue_name}"
    return f"sqlite:{settings.jobs_dir / 'queue.sqlite'}#{settings.jobs.queue_name}"


def describe(settings: Settings) -> str:
    """The settings' queue for a message: its URL without password, or its file."""
    if settings.jobs.backend == "redis":
        return hide_password(settings.jobs.redis_url)
    return str(settings.jobs_dir / "queue.sqlite")


def _named(method: Callable[..., T]) -> Callable[..., T]:
    """``method`` of the Redis storage, raising ``QueueUnavailable`` (naming the queue) for redis-py's errors."""

    @functools.wraps(method)
    def call(self: _RedisStorage, *args: object, **kwargs: object) -> T:
        try:
            return method(self, *args, **kwargs)
        except RedisError as error:
            raise unreachable(self.where, error) from error

    return call


class _RedisStorage(RedisStorage):
    """huey's Redis storage, whose calls made outside the consumer (enqueuing, the quiz grading's pending flag) say
    which queue could not be reached (``QueueUnavailable``) instead of raising redis-py's error from deep inside
    huey. (The consumer logs its own read errors and tries again.)"""

    def __init__(self, *args: object, where: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.where = where

    enqueue = _named(RedisStorage.enqueue)
    has_data_for_key = _named(RedisStorage.has_data_for_key)
    put_if_empty = _named(RedisStorage.put_if_empty)
    delete_data = _named(RedisStorage.delete_data)


def unreachable(where: str, error: Exception) -> QueueUnavailable:
    """The one message for a queue that cannot be reached."""
    return QueueUnavailable(f"the job queue at {where} cannot be reached: {error}")


def build_huey(settings: Settings) -> Huey:
    """A huey instance on the storage the settings choose."""
    name = settings.jobs.queue_name
    if settings.jobs.backend == "redis":
        pool = ConnectionPool.from_url(settings.jobs.redis_url, socket_connect_timeout=CONNECT_SECONDS)
        where = describe(settings)
        return RedisHuey(name, results=False, storage_class=_RedisStorage, connection_pool=pool, where=where)
    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, results=False, filename=str(settings.jobs_dir / "queue.sqlite"))


def configure_queue(settings: Settings) -> Huey:
    """Point the process-wide ``huey`` at the storage for ``settings`` (the worker, the CLI, the API before it
    enqueues, tests). Cheap when it already points there (enqueuing is on a hot path): the storage keeps the
    location it was opened on."""
    where = location(settings)
    if getattr(huey.storage, "diemcau_location", None) != where:
        storage = build_huey(settings).storage
        storage.diemcau_location = where
        huey.storage = storage
    return huey


def check_queue(settings: Settings) -> Huey:
    """``configure_queue``, then make sure the queue answers (a Redis ``PING``); raises ``QueueUnavailable`` with a
    one-line message if not (what the worker and the CLI say at start instead of a traceback)."""
    queue = configure_queue(settings)
    if isinstance(queue.storage, RedisStorage):
        try:
            queue.storage.conn.ping()
        except RedisError as error:
            raise unreachable(describe(settings), error) from error
    return queue


def waiting_calls(queue: Huey, task: TaskWrapper) -> set[tuple]:
    """The arguments of every call of ``task`` that the queue holds, queued or scheduled (a retry waiting for its
    delay): what a recovery sweep asks before queuing again a job whose task may have been lost."""
    held = (*queue.pending(), *queue.scheduled())
    return {tuple(call.args) for call in held if isinstance(call, task.task_class)}


huey: Huey = SqliteHuey(QUEUE_NAME, results=False, filename=":memory:")
"""Tasks register on this instance at import; ``configure_queue`` gives it its real storage (and its name)."""
