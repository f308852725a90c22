"""The process-wide job queue (huey). Tasks register on ``huey``; ``configure_queue`` points it at storage.

Storage follows the settings: a SQLite file in the data directory on the embedded default (durable across
crashes: a task is removed from the queue only once it has finished), Redis when scaled out. Tasks are
written to be idempotent and resumable, because huey re-runs a task whose worker died mid-way only if asked
(retries) — each task records its own progress and checkpoints in the application database.
"""

from __future__ import annotations

from huey import Huey, RedisHuey, SqliteHuey

from diemcau.settings import Settings

QUEUE_NAME = "diemcau"


def location(settings: Settings) -> str:
    """Where the settings' queue lives (its backend and address)."""
    if settings.jobs.backend == "redis":
        return f"redis:{settings.jobs.redis_url}"
    return f"sqlite:{settings.jobs_dir / 'queue.sqlite'}"


def build_huey(settings: Settings) -> Huey:
    """A huey instance on the storage the settings choose."""
    if settings.jobs.backend == "redis":
        return RedisHuey(QUEUE_NAME, url=settings.jobs.redis_url)
    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(QUEUE_NAME, filename=str(settings.jobs_dir / "queue.sqlite"))


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


huey: Huey = SqliteHuey(QUEUE_NAME, filename=":memory:")
"""Tasks register on this instance at import; ``configure_queue`` gives it its real storage."""
