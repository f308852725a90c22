"""Quiz grading on the job queue: one task per stored submission, run by any number of workers in parallel.

The API stores a submission first, then enqueues ``grade_submission``. huey forgets a task its worker took
when that worker dies, and the API may die between storing and enqueuing; neither loses a grade, because the
submission row stays ``received`` until graded: every worker, when it starts, and the periodic
``requeue_stale_submissions`` (each minute) put such rows back on the queue. Grading a row twice is harmless:
a graded row is skipped, and a regrade writes the same grades.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from huey import Huey, crontab
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from diemcau.adapters.db import quizzes as store
from diemcau.jobs.queue import configure_queue, huey
from diemcau.quizzes.grading import factory_for, grade_stored
from diemcau.settings import Settings, SettingsError, load_settings

STALE_AFTER_SECONDS = 30
log = logging.getLogger(__name__)
_settings: list[Settings] = []
_queue_for: list[str] = []


def use_settings(settings: Settings) -> None:
    """Make quiz tasks in this process use ``settings`` (tests, the API; a worker reads the environment)."""
    _settings[:] = [settings]


def current_settings() -> Settings:
    """The settings quiz tasks in this process use."""
    if not _settings:
        _settings.append(load_settings())
    return _settings[0]


def ensure_queue(settings: Settings) -> Huey:
    """Point the process-wide queue at ``settings``' storage, once per process (enqueuing is on a hot path)."""
    key = (
        f"{settings.jobs.backend}:{settings.jobs.redis_url if settings.jobs.backend == 'redis' else settings.jobs_dir}"
    )
    if _queue_for != [key]:
        configure_queue(settings)
        _queue_for[:] = [key]
    return huey


@huey.task(retries=3, retry_delay=1)
def grade_submission(submission_id: str) -> None:
    """Grade one stored submission (retried on a database hiccup; a grading error marks the row failed)."""
    settings = current_settings()
    factory = factory_for(settings.database_url)
    try:
        grade_stored(settings, factory, submission_id)
    except OperationalError:
        raise  # locked or unreachable database: huey retries
    except Exception as exc:  # nbgrader refused: keep the reason for the operator, stop retrying
        log.exception("grading %s failed", submission_id)
        store.record_failure(factory, submission_id, f"{type(exc).__name__}: {exc}")


def enqueue_grading(settings: Settings, submission_id: str) -> bool:
    """Queue the grading of a stored submission; ``False`` if the queue refused (the sweep will retry)."""
    try:
        ensure_queue(settings)
        grade_submission(submission_id)
        return True
    except Exception:
        log.exception("could not enqueue grading of %s; the periodic sweep will", submission_id)
        return False


def _has_quiz_tables(settings: Settings) -> bool:
    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return False  # no database here yet: nothing to grade, and no reason to create one
    return inspect(factory_for(url).kw["bind"]).has_table("quiz_submissions")


def requeue_ungraded(settings: Settings, older_than_seconds: float = STALE_AFTER_SECONDS) -> int:
    """Put back on the queue every submission stored that long ago and still not graded; returns how many."""
    if not _has_quiz_tables(settings):
        return 0
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=older_than_seconds)
    ids = store.ungraded_ids(factory_for(settings.database_url), before)
    for submission_id in ids:
        grade_submission(submission_id)
    return len(ids)


@huey.on_startup("requeue_ungraded_quiz_submissions")
def requeue_on_startup() -> None:
    """A worker starting (after a crash, say) first queues every submission left ungraded."""
    try:
        count = requeue_ungraded(current_settings(), older_than_seconds=0)
    except (SettingsError, OperationalError):
        log.exception("could not look for ungraded quiz submissions")
        return
    if count:
        log.info("requeued %d ungraded quiz submission(s)", count)


@huey.periodic_task(crontab(minute="*"))
def requeue_stale_submissions() -> None:
    """Each minute: queue again submissions stored over ``STALE_AFTER_SECONDS`` ago and still ungraded."""
    requeue_ungraded(current_settings())
