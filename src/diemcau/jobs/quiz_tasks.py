"""Quiz grading on the job queue: a task grades the waiting submissions of one quiz, a batch at a time.

The API stores a submission first, then makes sure a ``grade_quiz`` task of its quiz is queued or at work (one
task per burst, not per submission: the ``quiz_locks`` pending flag). The task grades the waiting submissions
of the quiz in batches (up to ``BATCH_SIZE``, one gradebook transaction each), looking again every
``POLL_SECONDS`` until they stop coming, under the quiz's lease in the database (``jobs.lease``: one ``jobs``
row per quiz, renewed while it grades), so two workers never grade the same rows; quizzes are graded in
parallel by as many workers as there are. huey forgets a task its worker took when that worker dies, and the
API may die between storing and enqueuing; neither loses a grade, because the submission row stays
``received`` until its result is written: every worker, when it starts, and its recovery sweep (every
``jobs.recovery_seconds``) queue grading of quizzes with such rows, and a lease whose holder died is taken
over after ``jobs.lease_seconds`` (at once when the holder was a process on this host that is gone). A holder
that finds its lease taken over stops before its next batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from pathlib import Path

from huey import Huey
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from diemcau.adapters.db.quiz_batches import waiting_quizzes, waiting_submissions
from diemcau.jobs.context import WorkerContext, current
from diemcau.jobs.lease import JobLease
from diemcau.jobs.queue import QueueUnavailable, configure_queue, huey
from diemcau.jobs.quiz_locks import mark_pending, take_pending
from diemcau.quizzes.grading import grade_waiting
from diemcau.settings import Settings, SettingsError

BATCH_SIZE = 100  # most submissions per gradebook transaction: amortises it, and keeps it short
POLL_SECONDS = 0.1  # a resident grading task looks for new submissions this often (adds at most this to latency)
LINGER_SECONDS = 0.5  # and gives its worker back after this long with nothing to grade,
RESIDENT_SECONDS = 30.0  # or after this long in any case (queued behind other jobs again: ingest, transcription)
KIND = "grade_quiz"
log = logging.getLogger(__name__)


def ensure_queue(settings: Settings) -> Huey:
    """The process-wide queue, pointed at ``settings``' storage (cheap when it already is)."""
    return configure_queue(settings)


def lease_id(course_id: str, quiz_id: str) -> str:
    """The ``jobs`` row holding the quiz's grading lease (ids fit the column whatever their length)."""
    name = f"{course_id}/{quiz_id}"
    return f"grade:{name}" if len(name) <= 58 else f"grade:{hashlib.sha256(name.encode()).hexdigest()[:58]}"


def quiz_lease(ctx: WorkerContext, course_id: str, quiz_id: str) -> JobLease:
    """The quiz's grading lease (``jobs.lease``), its row made by the first taker."""
    jobs = ctx.settings.jobs
    return JobLease(ctx.factory, lease_id(course_id, quiz_id), jobs.lease_seconds, jobs.host_name, KIND)


def _grade_until_idle(
    ctx: WorkerContext, course_id: str, quiz_id: str, lease: JobLease, lost: threading.Event
) -> bool | None:
    """Grade the quiz's waiting submissions a batch at a time, looking again every ``POLL_SECONDS``, until none
    has come for ``LINGER_SECONDS`` (``True``) or the task has run ``RESIDENT_SECONDS`` (``False``): under load
    one resident task grades them all, whatever the rate, yet gives its worker to other jobs now and then.
    ``None``: the lease was taken over (this worker stalled past its expiry), so the new holder grades the rest.
    Both clocks also run while the worker is frozen, so before going by them it confirms that it still holds the
    lease (its renewal thread may not have looked yet)."""
    started = idle_since = time.monotonic()
    while True:
        if lost.is_set():
            log.warning("lost the grading lease of %s/%s to another worker: stopping", course_id, quiz_id)
            return None
        try:
            graded = grade_waiting(ctx.graders, ctx.factory, course_id, quiz_id, BATCH_SIZE)
        except Exception:
            if not lost.is_set():
                raise
            # The batch failed while the new holder was writing (a locked gradebook, say): the lease's loss, not a
            # fault to retry. The loop's first check stops the task.
            log.info("the batch of %s/%s failed after the lease was lost", course_id, quiz_id, exc_info=True)
            continue
        now = time.monotonic()
        if graded:
            idle_since = now
        verdict = True if not graded and now - idle_since >= LINGER_SECONDS else None
        if verdict is None and now - started >= RESIDENT_SECONDS:
            verdict = False
        if verdict is not None:
            if lease.still_held():
                return verdict
            lost.set()
            continue
        if graded < BATCH_SIZE:  # a full batch: more may be waiting already
            time.sleep(POLL_SECONDS)


@huey.task(retries=3, retry_delay=1)
def grade_quiz(course_id: str, quiz_id: str) -> None:
    """Grade the submissions of a quiz as they come, until none has come for a moment (retried on a database
    hiccup; a submission nbgrader refuses is marked failed and the others go on). A task that finds another
    worker on the quiz leaves it to that one."""
    ctx = current()
    while True:
        lost = threading.Event()
        lease = quiz_lease(ctx, course_id, quiz_id)
        with lease.held(lost) as claimed:
            if not claimed:
                return
            idle = _grade_until_idle(ctx, course_id, quiz_id, lease, lost)
        if idle is None:
            return  # taken over: the new holder clears the flag when it goes idle
        if not idle:  # still busy: a fresh task carries on after the jobs queued meanwhile (the flag stays set)
            grade_quiz(course_id, quiz_id)
            return
        # Going idle: lease first, then the flag, then one last look. A submission stored before the flag is
        # cleared is seen by that look; one stored after it queues a new task, which finds the lease free.
        take_pending(huey, course_id, quiz_id)
        if not waiting_submissions(ctx.factory, course_id, quiz_id, 1):
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
    except QueueUnavailable as error:
        log.warning("%s: grading of %s/%s left to the periodic sweep", error, course_id, quiz_id)
        return False
    except Exception:
        log.exception("could not enqueue grading of %s/%s; the periodic sweep will", course_id, quiz_id)
        return False


def has_table(ctx: WorkerContext, table: str) -> bool:
    """Does the context's database exist and hold ``table``? (A worker's start-up sweeps look before querying.)"""
    url = ctx.settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return False  # no database here yet: nothing to do, and no reason to create one
    return inspect(ctx.factory.kw["bind"]).has_table(table)


def requeue_ungraded(ctx: WorkerContext, older_than_seconds: float | None = None) -> int:
    """Queue grading of every quiz with a submission stored that long ago (default: ``jobs.lease_seconds``, by
    when a dead grader's lease has expired) and still not graded, whatever its pending flag says: a worker may
    have died holding it. A live grader's quiz is left to it by the queued task. Returns how many wait."""
    if not has_table(ctx, "quiz_submissions"):
        return 0
    age = ctx.settings.jobs.lease_seconds if older_than_seconds is None else older_than_seconds
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age)
    waiting = waiting_quizzes(ctx.factory, before)
    for course_id, quiz_id in waiting:
        enqueue_grading(ctx.settings, course_id, quiz_id, force=True)
    return sum(waiting.values())


@huey.on_startup("requeue_ungraded_quiz_submissions")
def requeue_on_startup() -> None:
    """A worker starting (after a crash, say) first queues every submission left ungraded, then sweeps again for
    submissions left waiting every ``jobs.recovery_seconds``."""
    try:
        ctx = current()
        count = requeue_ungraded(ctx, older_than_seconds=0)
    except (SettingsError, OperationalError):
        log.exception("could not look for ungraded quiz submissions")
        return
    if count:
        log.info("requeued %d ungraded quiz submission(s)", count)
    if ctx.first_time("quiz-recovery"):
        ctx.repeat("quiz-recovery", ctx.settings.jobs.recovery_seconds, requeue_ungraded)
