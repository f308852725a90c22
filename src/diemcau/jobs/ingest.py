"""The ingest job: runs the media pipeline for one publish, resumably, on the huey queue.

huey removes a task from its queue when a worker takes it, so a worker killed with ``kill -9`` loses the task.
The run itself is durable instead: its checkpoints and owner live in ``ingest_runs``. A worker that starts
(and then its recovery sweep, every ``jobs.recovery_seconds``) puts back on the queue every run whose owner is
gone — a dead process on this host, or a heartbeat older than ``media.stale_after_seconds`` — and the run
resumes after its last finished stage. Two copies of a task cannot both run one ingest: each first claims the
run. An owner whose heartbeat finds the run taken over (it stalled past the expiry) stops at its next step
without recording anything (``jobs.lease.LeaseLost``).
"""

from __future__ import annotations

import logging
import shutil
import threading
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Any

from huey.api import TaskWrapper
from huey.exceptions import RetryTask
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import lectures as db
from diemcau.adapters.db.models_media import IngestRunRow
from diemcau.adapters.media_store import LocalMediaStore
from diemcau.adapters.storage import SharedVolume
from diemcau.core.egress import EgressPolicy
from diemcau.core.lecture import TranscriptState
from diemcau.jobs.context import WorkerContext, current
from diemcau.jobs.lease import LeaseLost, check, holder_gone, renewing
from diemcau.jobs.lease import owner_id as lease_owner_id
from diemcau.jobs.queue import huey
from diemcau.jobs.transcribe_task import enqueue_transcription, transcribe_lecture
from diemcau.media.errors import MediaError
from diemcau.media.pipeline import IngestContext, run_pipeline
from diemcau.media.types import Limits
from diemcau.search.content import content_changed
from diemcau.settings import Settings

HEARTBEAT_SECONDS = 5.0
log = logging.getLogger(__name__)


def owner_id() -> str:
    """This process, as a run's owner: ``host:pid`` (``jobs.lease.owner_id``)."""
    return lease_owner_id()


def limits_of(settings: Settings) -> Limits:
    """The source limits in the settings."""
    return Limits(float(settings.media.max_duration_seconds), settings.media.max_size_mb * 2**20)


def work_dir(settings: Settings, run_id: str) -> Path:
    """Where a run keeps its source and encodes (outside the store, so nothing partial is ever served)."""
    return settings.jobs_dir / "ingest" / run_id


def discard_work(settings: Settings, run_id: str) -> None:
    """Remove a run's work folder (its fetched source and partial encodes)."""
    shutil.rmtree(work_dir(settings, run_id), ignore_errors=True)


def context_for(settings: Settings, run: IngestRunRow, media: SharedVolume) -> IngestContext:
    """The pipeline context of a run, publishing to ``media`` (the caller's ``stores.media``: the worker's, or
    the API's or CLI's for the probe, which only asks whether the media is there already)."""
    store = LocalMediaStore(media)
    preset = settings.media.video_preset
    egress = EgressPolicy(allow_private=settings.media.fetch_private_networks)
    return IngestContext(run.request["source"], work_dir(settings, run.id), limits_of(settings), store, preset, egress)


class DbRunLog:
    """The pipeline's ``RunLog`` on ``ingest_runs``/``jobs``; the probe checkpoint also creates the lecture row.
    Once ``lost`` is set (the run was taken over) every step raises ``LeaseLost`` instead of writing."""

    def __init__(self, factory: sessionmaker[Session], run_id: str, lost: threading.Event | None = None) -> None:
        self.factory, self.run_id, self.lost = factory, run_id, lost

    def checkpoints(self) -> dict[str, dict[str, Any]]:
        run = db.load_run(self.factory, self.run_id)
        return {k: v for k, v in (run.checkpoints if run else {}).items() if k != "error"}

    def started(self, stage: str) -> None:
        check(self.lost, f"ingest {self.run_id}")
        db.count_stage_start(self.factory, self.run_id, stage)

    def finished(self, stage: str, output: dict[str, Any]) -> None:
        check(self.lost, f"ingest {self.run_id}")
        if stage == "probe":
            fetched = self.checkpoints()["fetch"]
            db.create_lecture(
                self.factory,
                self.run_id,
                fetched["sha256"],
                output["duration_seconds"],
                output["has_video"],
                output["width"],
                output["height"],
            )
        db.record_checkpoint(self.factory, self.run_id, stage, output)

    def progress(self, stage: str, percent: float) -> None:
        check(self.lost, f"ingest {self.run_id}")
        db.report_progress(self.factory, self.run_id, stage, percent)


def is_abandoned(run: IngestRunRow, stale_after: float) -> bool:
    """Has the run's owner gone (``jobs.lease.holder_gone``: a dead process on this host, or no heartbeat for
    ``stale_after`` seconds)?"""
    return holder_gone(run.owner, run.heartbeat_at, stale_after)


def _beating(
    factory: sessionmaker[Session], run_id: str, owner: str, lost: threading.Event, stale_after: float
) -> AbstractContextManager[None]:
    """Keep the run's heartbeat fresh while a long stage is silent (a big download, a slow encode); ``lost`` is
    set when a beat finds the run taken over, or when no beat has got through for ``stale_after`` seconds (by
    then another worker may have taken it over)."""
    beat = partial(db.beat, factory, run_id, owner)
    return renewing(beat, HEARTBEAT_SECONDS, f"beat-{run_id}", lost, lost_after=stale_after)


def transcriber() -> tuple[TaskWrapper, Any]:
    """The transcription task and its ``enqueue_transcription(ctx, lecture_id)`` (which writes the job row
    at once, so progress shows before a worker takes the task)."""
    return transcribe_lecture, enqueue_transcription


def hand_to_transcriber(ctx: WorkerContext, lecture_id: str, requested: bool) -> TranscriptState:
    """After ingest: queue the transcription when asked for."""
    if not requested:
        return TranscriptState.SKIPPED
    enqueue_transcription(ctx, lecture_id)
    return TranscriptState.QUEUED


def execute_run(context: WorkerContext, run_id: str) -> str:
    """Claim and run (or resume) one ingest run; returns its outcome: done, failed, retry, skipped or lost (taken
    over by another worker while this one stalled: it carries the run on)."""
    settings, factory, owner = context.settings, context.factory, owner_id()
    stale = settings.media.stale_after_seconds
    if not db.claim_run(factory, run_id, owner, lambda run: is_abandoned(run, stale)):
        return "skipped"
    run = db.load_run(factory, run_id)
    assert run is not None
    ctx, lost = context_for(settings, run, context.stores.media), threading.Event()
    try:
        with _beating(factory, run_id, owner, lost, stale):
            run_pipeline(ctx, DbRunLog(factory, run_id, lost))
    except Exception as error:  # noqa: BLE001 - sorted below
        if isinstance(error, LeaseLost) or lost.is_set():  # a stage may wrap the step that found out
            log.warning("ingest %s was taken over by another worker: stopping", run_id)
            return "lost"
        return _unfinished(settings, factory, run, owner, error)
    if lost.is_set():  # found out after the last step: the new owner finishes the run
        return "lost"
    state = hand_to_transcriber(context, run.lecture_id, bool(run.request.get("transcribe", True)))
    db.finish_run(factory, run_id, str(state))
    shutil.rmtree(ctx.work_dir, ignore_errors=True)
    content_changed(settings, factory, context.stores, run.lecture_id)  # ready now: index whatever transcript it has
    return "done"


def _unfinished(
    settings: Settings, factory: sessionmaker[Session], run: IngestRunRow, owner: str, error: Exception
) -> str:
    """A run that raised: a ``MediaError`` as it is, anything else (a bug, a lost database) as a transient
    internal error; retried, then reported (``_failed``)."""
    if isinstance(error, MediaError):
        return _failed(settings, factory, run, owner, error)
    log.error("ingest %s failed unexpectedly", run.id, exc_info=error)
    return _failed(settings, factory, run, owner, MediaError("internal", transient=True, detail=str(error)[:300]))


def _failed(
    settings: Settings, factory: sessionmaker[Session], run: IngestRunRow, owner: str, error: MediaError
) -> str:
    """A transient error is retried up to ``jobs.retries`` times; a permanent one (404, not media, a refused
    address) fails the run at once. The trainer reads the catalogue's message; the log keeps the details."""
    attempts = _attempts(factory, run.id)
    log.warning("ingest %s, attempt %d: %s (%s)", run.id, attempts, error, "transient" if error.transient else "final")
    if error.transient and attempts <= settings.jobs.retries:
        db.release_run(factory, run.id, owner)
        return "retry"
    db.fail_run(factory, run.id, error.code, error.message())
    discard_work(settings, run.id)
    return "failed"


def _attempts(factory: sessionmaker[Session], run_id: str) -> int:
    from diemcau.adapters.db.models import JobRow

    with factory() as session:
        job = session.get(JobRow, run_id)
        return job.attempts if job else 0


@huey.task()
def ingest_lecture(run_id: str) -> str:
    """The queued form of ``execute_run``; a transient failure comes back after a growing delay."""
    ctx = current()
    outcome = execute_run(ctx, run_id)
    if outcome == "retry":
        attempts = _attempts(ctx.factory, run_id)
        raise RetryTask(delay=ctx.settings.media.retry_delay_seconds * attempts)
    return outcome


def enqueue_ingest(run_id: str) -> None:
    """Put a run on the queue (a copy already there is harmless: only one can claim the run)."""
    ingest_lecture(run_id)


def recover_runs(ctx: WorkerContext) -> list[str]:
    """Queue again every active run whose owner is gone (or that sat queued too long); returns their ids."""
    factory, stale = ctx.factory, ctx.settings.media.stale_after_seconds
    recovered = []
    active = db.active_runs(factory)
    _remove_finished_work(ctx, {run.id for run in active})
    for run in active:
        lost_in_queue = not run.owner and (db.utcnow() - run.updated_at).total_seconds() > stale
        if (run.owner and is_abandoned(run, stale)) or lost_in_queue:
            enqueue_ingest(run.id)
            recovered.append(run.id)
    if recovered:
        log.info("re-queued ingest runs whose worker is gone: %s", ", ".join(recovered))
    return recovered


def _remove_finished_work(ctx: WorkerContext, active: set[str]) -> None:
    """Work folders of runs that are over (a crash between finishing and cleaning up) are removed."""
    root = ctx.settings.jobs_dir / "ingest"
    for folder in root.iterdir() if root.is_dir() else ():
        if folder.name not in active and db.load_run(ctx.factory, folder.name) is not None:
            shutil.rmtree(folder, ignore_errors=True)


@huey.on_startup("diemcau-ingest-worker")
def _on_worker_start() -> None:
    """Once per worker process: start its heartbeat, recover runs a crashed worker left behind, and sweep for
    such runs every ``jobs.recovery_seconds`` (another machine's crash)."""
    ctx = current()
    if not ctx.first_time("ingest-worker"):
        return
    worker = owner_id()
    host, _, pid = worker.rpartition(":")
    ctx.repeat("worker-heartbeat", HEARTBEAT_SECONDS, lambda c: db.worker_beat(c.factory, worker, host, int(pid)))
    db.worker_beat(ctx.factory, worker, host, int(pid))
    recover_runs(ctx)
    ctx.repeat("ingest-recovery", ctx.settings.jobs.recovery_seconds, recover_runs)


@huey.on_shutdown("diemcau-ingest-worker")
def _on_worker_stop() -> None:
    """A clean stop removes the heartbeat at once, so ``--wait`` does not wait for a worker that left."""
    ctx = current()
    if ctx.stop_worker():
        db.worker_gone(ctx.factory, owner_id())
