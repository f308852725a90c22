"""The ingest job: runs the media pipeline for one publish, resumably, on the huey queue.

huey removes a task from its queue when a worker takes it, so a worker killed with ``kill -9`` loses the task.
The run itself is durable instead: its checkpoints and owner live in ``ingest_runs``. A worker that starts
(and, every minute, the periodic ``recover_ingest_runs``) puts back on the queue every run whose owner is gone
— a dead process on this host, or a heartbeat older than ``media.stale_after_seconds`` — and the run resumes
after its last finished stage. Two copies of a task cannot both run one ingest: each first claims the run.
"""

from __future__ import annotations

import logging
import shutil
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from huey import crontab
from huey.api import TaskWrapper
from huey.exceptions import RetryTask
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import lectures as db
from diemcau.adapters.db.models_media import IngestRunRow
from diemcau.adapters.media_store import LocalMediaStore
from diemcau.core.egress import EgressPolicy
from diemcau.core.lecture import TranscriptState
from diemcau.jobs.lease import holder_gone, renewing
from diemcau.jobs.lease import owner_id as lease_owner_id
from diemcau.jobs.queue import huey
from diemcau.jobs.task_settings import current_settings, factory_for, use_settings  # noqa: F401 - re-exported
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


def context_for(settings: Settings, run: IngestRunRow) -> IngestContext:
    """The pipeline context of a run."""
    store = LocalMediaStore(settings.media_dir)
    preset = settings.media.video_preset
    egress = EgressPolicy(allow_private=settings.media.fetch_private_networks)
    return IngestContext(run.request["source"], work_dir(settings, run.id), limits_of(settings), store, preset, egress)


class DbRunLog:
    """The pipeline's ``RunLog`` on ``ingest_runs``/``jobs``; the probe checkpoint also creates the lecture row."""

    def __init__(self, factory: sessionmaker[Session], run_id: str) -> None:
        self.factory, self.run_id = factory, run_id

    def checkpoints(self) -> dict[str, dict[str, Any]]:
        run = db.load_run(self.factory, self.run_id)
        return {k: v for k, v in (run.checkpoints if run else {}).items() if k != "error"}

    def started(self, stage: str) -> None:
        db.count_stage_start(self.factory, self.run_id, stage)

    def finished(self, stage: str, output: dict[str, Any]) -> None:
        if stage == "probe":
            fetched = self.checkpoints()["fetch"]
            db.create_lecture(
                self.factory, self.run_id, fetched["sha256"], output["duration_seconds"], output["has_video"],
                output["width"], output["height"],
            )  # fmt: skip
        db.record_checkpoint(self.factory, self.run_id, stage, output)

    def progress(self, stage: str, percent: float) -> None:
        db.report_progress(self.factory, self.run_id, stage, percent)


def is_abandoned(run: IngestRunRow, stale_after: float) -> bool:
    """Has the run's owner gone (``jobs.lease.holder_gone``: a dead process on this host, or no heartbeat for
    ``stale_after`` seconds)?"""
    return holder_gone(run.owner, run.heartbeat_at, stale_after)


def _beating(factory: sessionmaker[Session], run_id: str, owner: str) -> AbstractContextManager[None]:
    """Keep the run's heartbeat fresh while a long stage is silent (a big download, a slow encode)."""
    return renewing(lambda: db.beat(factory, run_id, owner), HEARTBEAT_SECONDS, f"beat-{run_id}")


def transcriber() -> tuple[TaskWrapper, Any]:
    """The transcription task and its ``enqueue_transcription(settings, lecture_id)`` (which writes the job row
    at once, so progress shows before a worker takes the task)."""
    return transcribe_lecture, enqueue_transcription


def hand_to_transcriber(settings: Settings, lecture_id: str, requested: bool) -> TranscriptState:
    """After ingest: queue the transcription when asked for."""
    if not requested:
        return TranscriptState.SKIPPED
    enqueue_transcription(settings, lecture_id)
    return TranscriptState.QUEUED


def execute_run(settings: Settings, run_id: str) -> str:
    """Claim and run (or resume) one ingest run; returns its outcome: done, failed, retry or skipped."""
    factory, owner = factory_for(settings.database_url), owner_id()
    stale = settings.media.stale_after_seconds
    if not db.claim_run(factory, run_id, owner, lambda run: is_abandoned(run, stale)):
        return "skipped"
    run = db.load_run(factory, run_id)
    assert run is not None
    ctx = context_for(settings, run)
    try:
        with _beating(factory, run_id, owner):
            run_pipeline(ctx, DbRunLog(factory, run_id))
    except MediaError as error:
        return _failed(settings, factory, run, owner, error)
    except Exception as error:  # noqa: BLE001 - a bug or a lost database: retried, then reported
        log.exception("ingest %s failed unexpectedly", run_id)
        return _failed(settings, factory, run, owner, MediaError("internal", transient=True, detail=str(error)[:300]))
    state = hand_to_transcriber(settings, run.lecture_id, bool(run.request.get("transcribe", True)))
    db.finish_run(factory, run_id, str(state))
    shutil.rmtree(ctx.work_dir, ignore_errors=True)
    content_changed(settings, factory, run.lecture_id)  # ready now: index whatever transcript it has
    return "done"


def _failed(settings: Settings, factory: sessionmaker[Session], run: IngestRunRow, owner: str, error: MediaError) -> str:
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
    settings = current_settings()
    outcome = execute_run(settings, run_id)
    if outcome == "retry":
        attempts = _attempts(factory_for(settings.database_url), run_id)
        raise RetryTask(delay=settings.media.retry_delay_seconds * attempts)
    return outcome


def enqueue_ingest(run_id: str) -> None:
    """Put a run on the queue (a copy already there is harmless: only one can claim the run)."""
    ingest_lecture(run_id)


def recover_runs(settings: Settings) -> list[str]:
    """Queue again every active run whose owner is gone (or that sat queued too long); returns their ids."""
    factory, stale = factory_for(settings.database_url), settings.media.stale_after_seconds
    recovered = []
    active = db.active_runs(factory)
    _remove_finished_work(settings, {run.id for run in active})
    for run in active:
        lost_in_queue = not run.owner and (db.utcnow() - run.updated_at).total_seconds() > stale
        if (run.owner and is_abandoned(run, stale)) or lost_in_queue:
            enqueue_ingest(run.id)
            recovered.append(run.id)
    if recovered:
        log.info("re-queued ingest runs whose worker is gone: %s", ", ".join(recovered))
    return recovered


def _remove_finished_work(settings: Settings, active: set[str]) -> None:
    """Work folders of runs that are over (a crash between finishing and cleaning up) are removed."""
    root = settings.jobs_dir / "ingest"
    for folder in root.iterdir() if root.is_dir() else ():
        if folder.name not in active and db.load_run(factory_for(settings.database_url), folder.name) is not None:
            shutil.rmtree(folder, ignore_errors=True)


@huey.periodic_task(crontab(minute="*"))
def recover_ingest_runs() -> None:
    """Every minute: take over runs from workers that stopped reporting (another machine's crash)."""
    recover_runs(current_settings())


_worker_started = threading.Lock()
_worker_state: dict[str, Any] = {}


@huey.on_startup("diemcau-ingest-worker")
def _on_worker_start() -> None:
    """Once per worker process: start its heartbeat and recover runs a crashed worker left behind."""
    if not _worker_started.acquire(blocking=False):
        return
    settings = current_settings()
    factory, worker = factory_for(settings.database_url), owner_id()
    host, _, pid = worker.rpartition(":")
    stop = threading.Event()
    _worker_state.update(stop=stop, factory=factory, id=worker)

    def loop() -> None:
        while True:
            try:
                db.worker_beat(factory, worker, host, int(pid))
            except Exception:  # noqa: BLE001 - a busy database must not kill the heartbeat
                log.warning("worker heartbeat failed", exc_info=True)
            if stop.wait(HEARTBEAT_SECONDS):
                return

    threading.Thread(target=loop, name="worker-heartbeat", daemon=True).start()
    recover_runs(settings)


@huey.on_shutdown("diemcau-ingest-worker")
def _on_worker_stop() -> None:
    """A clean stop removes the heartbeat at once, so ``--wait`` does not wait for a worker that left."""
    if "stop" in _worker_state:
        _worker_state["stop"].set()
        db.worker_gone(_worker_state["factory"], _worker_state["id"])
