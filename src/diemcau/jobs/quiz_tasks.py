"""Quiz grading on the job queue: a task grades the waiting submissions of one quiz, a batch at a time.

The API stores a submission first, then makes sure a ``grade_quiz`` task of its quiz is queued or at work (one
task per burst, not per submission: the ``quiz_locks`` pending flag). The task grades the waiting submissions
of the quiz in batches (up to ``BATCH_SIZE``, one gradebook transaction each), looking again every
``POLL_SECONDS`` until they stop coming, under the quiz's lease, so two workers never grade the same rows;
quizzes are graded in parallel by as many workers as there are. huey forgets a task its worker took
when that worker dies, and the API may die between storing and enqueuing; neither loses a grade, because the
submission row stays ``received`` until its result is written: every worker, when it starts, and the periodic
``requeue_stale_submissions`` (each minute) queue grading of quizzes with such rows, and a lease whose holder
died is taken over. Grading a row twice is harmless: a regrade writes the same grades.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

from huey import Huey, crontab
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.quiz_batches import waiting_quizzes, waiting_submissions
from diemcau.jobs.queue import configure_queue, huey
from diemcau.jobs.quiz_locks import (
    LEASE_SECONDS, acquire_lease, mark_pending, release_lease, renew_lease, take_pending,
)  # fmt: skip
from diemcau.quizzes.grading import factory_for, grade_waiting
from diemcau.settings import Settings, SettingsError, load_settings

STALE_AFTER_SECONDS = 30
BATCH_SIZE = 100  # most submissions per gradebook transaction: amortises it, and keeps it short
POLL_SECONDS = 0.1  # a resident grading task looks for new submissions this often (adds at most this to latency)
LINGER_SECONDS = 0.5  # and gives its worker back after this long with nothing to grade,
RESIDENT_SECONDS = 30.0  # or after this long in any case (queued behind other jobs again: ingest, transcription)
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


def _grade_until_idle(settings: Settings, factory: sessionmaker[Session], course_id: str, quiz_id: str) -> bool:
    """Grade the quiz's waiting submissions a batch at a time, looking again every ``POLL_SECONDS``, until none
    has come for ``LINGER_SECONDS`` (``True``) or the task has run ``RESIDENT_SECONDS`` (``False``): under load
    one resident task grades them all, whatever the rate, yet gives its worker to other jobs now and then."""
    started = idle_since = renewed = time.monotonic()
    while True:
        graded = grade_waiting(settings, factory, course_id, quiz_id, BATCH_SIZE)
        now = time.monotonic()
        if graded:
            idle_since = now
            if now - renewed > LEASE_SECONDS / 4:
                renew_lease(huey, course_id, quiz_id)
                renewed = now
        elif now - idle_since >= LINGER_SECONDS:
            return True
        if now - started >= RESIDENT_SECONDS:
            return False
        if graded < BATCH_SIZE:  # a full batch: more may be waiting already
            time.sleep(POLL_SECONDS)


@huey.task(retries=3, retry_delay=1)
def grade_quiz(course_id: str, quiz_id: str) -> None:
    """Grade the submissions of a quiz as they come, until none has come for a moment (retried on a database
    hiccup; a submission nbgrader refuses is marked failed and the others go on). A task that finds another
    worker on the quiz leaves it to that one."""
    settings = current_settings()
    factory = factory_for(settings.database_url)
    while acquire_lease(huey, course_id, quiz_id):
        try:
            idle = _grade_until_idle(settings, factory, course_id, quiz_id)
        finally:
            release_lease(huey, course_id, quiz_id)
        if not idle:  # still busy: a fresh task carries on after the jobs queued meanwhile (the flag stays set)
            grade_quiz(course_id, quiz_id)
            return
        # Going idle: lease first, then the flag, then one last look. A submission stored before the flag is
        # cleared is seen by that look; one stored after it queues a new task, which finds the lease free.
        take_pending(huey, course_id, quiz_id)
        if not waiting_submissions(factory, course_id, quiz_id, 1):
            return
        mark_pending(huey, course_id, quiz_id)  # back at work: no need for the API to queue more tasks


def enqueue_grading(settings: Settings, course_id: str, quiz_id: str, force: bool = False) -> bool:
    """Make sure a task will grade the quiz's waiting submissions: queue one unless one is already queued or at
    work on the quiz (or always, with ``force``); ``False`` if the queue refused (the periodic sweep will retry)."""
    try:
        queue = ensure_queue(settings)
        if mark_pending(queue, course_id, quiz_id) or force:
            grade_quiz(course_id, quiz_id)
        return True
    except Exception:
        log.exception("could not enqueue grading of %s/%s; the periodic sweep will", course_id, quiz_id)
        return False


def has_table(settings: Settings, table: str) -> bool:
    """Does the settings' database exist and hold ``table``? (A worker's start-up sweeps look before querying.)"""
    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return False  # no database here yet: nothing to do, and no reason to create one
    return inspect(factory_for(url).kw["bind"]).has_table(table)


def requeue_ungraded(settings: Settings, older_than_seconds: float = STALE_AFTER_SECONDS) -> int:
    """Queue grading of every quiz with a submission stored that long ago and still not graded (whatever its
    pending flag says: a worker may have died holding it); returns how many such submissions wait."""
    if not has_table(settings, "quiz_submissions"):
        return 0
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=older_than_seconds)
    waiting = waiting_quizzes(factory_for(settings.database_url), before)
    for course_id, quiz_id in waiting:
        enqueue_grading(settings, course_id, quiz_id, force=True)
    return sum(waiting.values())


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
