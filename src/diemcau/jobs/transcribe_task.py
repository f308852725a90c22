"""The transcription job: ``transcribe_lecture(lecture_id)`` on the huey queue, resumable after ``kill -9``.

Work state lives in ``<data>/jobs/transcribe/<lecture_id>/``: the checkpoint (``windows.jsonl``, one line per
finished window, see ``asr.checkpoint``) and the request (``request.json``). A worker claims the lecture with
the lease on its ``jobs`` row (``jobs.lease``), renewed while it runs: a job marked *running* whose lease has
expired (or whose holder was a process on this host that is gone) has lost its worker. huey drops a task once
a worker has taken it, so each worker start (and then its recovery sweep, every ``jobs.recovery_seconds``) puts
such jobs back on the queue, and the re-run skips every window its checkpoint holds; a job whose lease is live,
on any host, is left alone. A holder that stalled past its lease and finds it taken over stops after the window
in flight, writing neither partial nor final transcript (``jobs.lease.LeaseLost``). A crash therefore costs the window in flight (at most 30 s of audio, a few seconds of CPU) plus the
restart: loading the model, decoding the audio and running the VAD again.

Progress (stage and percent) goes to the ``jobs`` row as each window finishes. While a lecture has no
transcript yet, the partial transcript is written to the store after the first window and then every
``PARTIAL_EVERY_SECONDS``, so a long lecture becomes searchable while it is being transcribed; a
re-transcription replaces the old transcript only when it is complete, through
``transcript_edits.replace_transcript`` (corrections are re-applied). Every transcript written here is passed
on to search (``search.content.content_changed``).
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from huey.exceptions import RetryTask
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import transcription_jobs as db
from diemcau.adapters.db.lecture_reads import media_of
from diemcau.adapters.media_store import LocalMediaStore
from diemcau.adapters.storage import Stores
from diemcau.adapters.transcript_edits import (
    CorrectedTranscriptError,
    apply_document_alignment,
    check_may_replace,
    replace_transcript,
)
from diemcau.adapters.transcript_import import error_message
from diemcau.adapters.transcript_store import Store, load_transcript, write_transcript
from diemcau.adapters.whisper_model import ModelError, load_whisper_model
from diemcau.asr.errors import TranscriptionError
from diemcau.asr.pipeline import PipelineOptions, Progress, assemble, options_from_settings, transcribe_audio
from diemcau.core.transcript import Transcript
from diemcau.jobs.context import WorkerContext, current
from diemcau.jobs.lease import JobLease, LeaseLost, check
from diemcau.jobs.queue import QueueUnavailable, configure_queue, huey, waiting_calls
from diemcau.materials.documents import document_texts
from diemcau.media.audio_file import AUDIO_FILE
from diemcau.search.content import content_changed
from diemcau.settings import Settings

PARTIAL_EVERY_SECONDS = 20.0
REQUEST_FILE = "request.json"
log = logging.getLogger(__name__)


def work_dir(settings: Settings, lecture_id: str) -> Path:
    """The folder of a lecture's transcription work (checkpoint, request)."""
    return settings.jobs_dir / "transcribe" / lecture_id


def lease_of(ctx: WorkerContext, lecture_id: str) -> JobLease:
    """The lease on the lecture's transcription job."""
    jobs = ctx.settings.jobs
    return JobLease(ctx.factory, db.job_id(lecture_id), jobs.lease_seconds, jobs.host_name)


def lecture_audio(ctx: WorkerContext, lecture_id: str) -> Path:
    """The lecture's published audio file (``audio.m4a``, AAC mono) in the media store;
    ``TranscriptionError('no_audio')`` when the lecture has no published media yet."""
    found = media_of(ctx.factory, lecture_id)
    path = None if found is None else LocalMediaStore(ctx.stores.media).local_path(found[2], AUDIO_FILE)
    if path is None:
        raise TranscriptionError("no_audio", lecture=lecture_id)
    return Path(path)


class JobReporter:
    """Reports each finished window to the ``jobs`` row, and publishes partial transcripts when allowed; stops
    the transcription (``LeaseLost``) once ``lost`` is set."""

    def __init__(
        self,
        settings: Settings,
        stores: Stores,
        factory: sessionmaker[Session],
        lecture_id: str,
        options: PipelineOptions,
        model_info: dict,
        on_progress: Callable[[Progress], None] | None = None,
        lost: threading.Event | None = None,
    ) -> None:
        self.settings, self.factory, self.lecture_id, self.on_progress = settings, factory, lecture_id, on_progress
        self.stores, self.options, self.model_info, self.lost = stores, options, model_info, lost
        stored = load_transcript(stores.transcripts, lecture_id)
        self.partial_allowed = stored is None or bool(stored.settings.get("partial"))
        self.last_partial = float("-inf")  # the first window is published at once, then every PARTIAL_EVERY_SECONDS

    def __call__(self, progress: Progress) -> None:
        check(self.lost, f"transcription of {self.lecture_id}")
        db.report(self.factory, self.lecture_id, "transcribe", progress.percent)
        due = time.monotonic() - self.last_partial >= PARTIAL_EVERY_SECONDS
        if self.partial_allowed and due and len(progress.results) < len(progress.plan.windows):
            partial = assemble(self.lecture_id, progress.plan, progress.results, self.model_info, self.options, True)
            write_transcript(self.stores.transcripts, partial)
            content_changed(
                self.settings, self.factory, self.stores, self.lecture_id
            )  # searchable while it is transcribed
            self.last_partial = time.monotonic()
        if self.on_progress is not None:
            self.on_progress(progress)


def align_to_materials(
    factory: sessionmaker[Session], transcripts: Store, lecture_id: str, documents: tuple[str, ...]
) -> None:
    """System corrections from the lecture's materials (``apply_document_alignment``) on the stored transcript.
    They are derived data, like search: a failure is logged, and the transcript Whisper wrote stands."""
    try:
        aligned = apply_document_alignment(factory, transcripts, lecture_id, documents)
    except Exception:  # noqa: BLE001 - the stored transcript stands; the next transcription aligns again
        log.exception("transcription: lecture %s not aligned to its materials", lecture_id)
        return
    if aligned is not None:
        log.info("transcription: lecture %s: %d stretches from its materials", lecture_id, len(aligned.replaced))


def _transcribe(
    ctx: WorkerContext,
    lecture_id: str,
    audio: str,
    model: str,
    force: bool,
    attempt: int,
    on_progress: Callable[[Progress], None] | None,
    lost: threading.Event,
) -> Transcript:
    settings, factory, transcripts = ctx.settings, ctx.factory, ctx.stores.transcripts
    check_may_replace(factory, transcripts, lecture_id, force)
    audio_file = Path(audio) if audio else lecture_audio(ctx, lecture_id)
    db.report(factory, lecture_id, "load", 0.0)
    try:
        loaded = load_whisper_model(settings, model)
    except ModelError as error:
        raise TranscriptionError("model_missing", detail=str(error)) from error
    conf = settings.transcription
    wanted = conf.document_vocabulary or conf.document_alignment
    documents = document_texts(settings, factory, ctx.stores.materials, lecture_id) if wanted else ()
    options = options_from_settings(settings, documents, loaded.device)
    reporter = JobReporter(settings, ctx.stores, factory, lecture_id, options, loaded.describe(), on_progress, lost)
    db.report(factory, lecture_id, "decode", 0.0)
    transcript = transcribe_audio(
        loaded.model,
        loaded.describe(),
        audio_file,
        lecture_id,
        options,
        work_dir(settings, lecture_id),
        attempt,
        reporter,
    )
    check(lost, f"transcription of {lecture_id}")  # taken over meanwhile: the new holder writes it
    db.report(factory, lecture_id, "write", 100.0)
    stored = load_transcript(transcripts, lecture_id)
    ours = stored is not None and bool(stored.settings.get("partial"))  # our own partial: replace it, always
    replace_transcript(factory, transcripts, transcript, force=force or ours, keep_previous_copy=not ours)
    if conf.document_alignment:
        align_to_materials(factory, transcripts, lecture_id, documents)
    content_changed(settings, factory, ctx.stores, lecture_id)
    return transcript


def run_transcription(
    ctx: WorkerContext,
    lecture_id: str,
    audio: str = "",
    model: str = "",
    force: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> Transcript | None:
    """Transcribe a lecture here and now (the task's body, and the CLI's ``--wait`` without a worker).

    Returns the transcript, or None when another live process is already transcribing this lecture (or took
    it over while this one stalled past its lease: then this one stops without writing).
    Raises ``TranscriptionError`` / ``CorrectedTranscriptError`` after recording the failure on the job.
    """
    factory, folder = ctx.factory, work_dir(ctx.settings, lecture_id)
    if db.load_job(factory, lecture_id) is None:
        db.queue_job(factory, lecture_id)  # a task (or the CLI) that came without a job row
    lost = threading.Event()
    with lease_of(ctx, lecture_id).held(lost) as claimed:
        if not claimed:
            return None
        attempt = db.start_job(factory, lecture_id)
        _write_request(folder, audio, model, force)
        try:
            transcript = _transcribe(ctx, lecture_id, audio, model, force, attempt, on_progress, lost)
        except LeaseLost:
            log.warning("transcription of %s was taken over by another worker: stopping", lecture_id)
            return None
        except TranscriptionError as error:
            log.warning("transcription of %s failed: %s", lecture_id, error)  # details here, the message on the job
            db.finish_job(factory, lecture_id, "failed", error.message())
            if error.code.startswith("audio") or error.code == "no_audio":
                shutil.rmtree(folder, ignore_errors=True)
            raise
        except CorrectedTranscriptError as error:
            db.finish_job(factory, lecture_id, "failed", error_message(error))
            raise
        db.finish_job(factory, lecture_id)
        shutil.rmtree(folder, ignore_errors=True)
    return transcript


def enqueue_transcription(
    ctx: WorkerContext, lecture_id: str, audio: str = "", model: str = "", force: bool = False
) -> str:
    """Queue a lecture's transcription (``queue_transcription`` with the worker's context); returns the job id."""
    return queue_transcription(ctx.settings, ctx.factory, lecture_id, audio, model, force)


def queue_transcription(
    settings: Settings,
    factory: sessionmaker[Session],
    lecture_id: str,
    audio: str = "",
    model: str = "",
    force: bool = False,
) -> str:
    """Queue a lecture's transcription (the job row says *queued* at once); returns the job id. A queue that
    cannot be reached only delays it: the recovery sweep queues a job whose task is missing (with the request
    kept in its work folder) once the queue is back. (The API's studio route calls it from its own process.)"""
    job = db.queue_job(factory, lecture_id)
    _write_request(work_dir(settings, lecture_id), audio, model, force)
    try:
        configure_queue(settings)
        transcribe_lecture(lecture_id, audio, model, force)
    except QueueUnavailable as error:
        log.warning("%s: transcription of %s left to the recovery sweep", error, lecture_id)
    return job


def _write_request(folder: Path, audio: str, model: str, force: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / REQUEST_FILE).write_text(json.dumps({"audio": audio, "model": model, "force": force}), "utf-8")


@huey.task()
def transcribe_lecture(lecture_id: str, audio: str = "", model: str = "", force: bool = False) -> str:
    """The queued transcription: done, failed, skipped (someone else has it) — or retried after a crash-like error."""
    ctx = current()
    settings, factory = ctx.settings, ctx.factory
    job = db.load_job(factory, lecture_id)
    if job is not None and job.status not in ("queued", "running"):
        return "skipped"  # a duplicate of a finished run (re-runs reset the job to queued first)
    try:
        done = run_transcription(ctx, lecture_id, audio, model, force)
    except (TranscriptionError, CorrectedTranscriptError):
        return "failed"
    except Exception as error:  # noqa: BLE001 - a bug or a lost database: retried, then reported
        log.exception("transcription of %s failed unexpectedly", lecture_id)
        job = db.load_job(factory, lecture_id)
        message = TranscriptionError("internal", detail=str(error)[:300]).message()
        db.finish_job(factory, lecture_id, "failed", message)
        if job is not None and job.attempts <= settings.jobs.retries:
            db.requeue_job(factory, lecture_id)
            raise RetryTask(delay=5 * job.attempts) from error
        return "failed"
    return "done" if done is not None else "skipped"


def recover_transcriptions(ctx: WorkerContext) -> list[str]:
    """Queue again every job marked running whose lease has expired (its worker is gone), and every job queued
    for a lease's length whose task the queue no longer holds (a Redis restarted without persistence, a queue
    that could not be reached); returns the lecture ids. A job whose lease is live — held by a worker on this
    host or another — is never touched."""
    factory, recovered = ctx.factory, []
    waiting = db.waiting_jobs(factory, ctx.settings.jobs.lease_seconds)
    held = {call[0] for call in waiting_calls(configure_queue(ctx.settings), transcribe_lecture)} if waiting else set()
    lost_tasks = [job for job in waiting if (job.lecture_id or "") not in held]
    for job in [*db.running_jobs(factory), *lost_tasks]:
        lecture_id = job.lecture_id or ""
        if not lecture_id or lease_of(ctx, lecture_id).is_live(job.owner, job.heartbeat_at):
            continue
        db.requeue_job(factory, lecture_id)  # touched: a queued job is looked at again a lease's length from now
        request = _read_request(work_dir(ctx.settings, lecture_id))
        transcribe_lecture(lecture_id, request.get("audio", ""), request.get("model", ""), request.get("force", False))
        recovered.append(lecture_id)
    if recovered:
        log.info("re-queued transcriptions whose worker is gone: %s", ", ".join(recovered))
    return recovered


def _read_request(folder: Path) -> dict:
    try:
        return json.loads((folder / REQUEST_FILE).read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


@huey.on_startup("diemcau-transcription-recovery")
def _on_worker_start() -> None:
    """When a worker process starts (once, not per thread): resume what a crashed worker left behind, then sweep
    again every ``jobs.recovery_seconds`` (another machine's crash, a kill -9)."""
    ctx = current()
    if not ctx.first_time("transcription-recovery"):
        return
    try:
        recovered = recover_transcriptions(ctx)
        log.info("transcription recovery at start: %d job(s) re-queued", len(recovered))
    except Exception:  # noqa: BLE001 - recovery must never stop a worker from starting
        log.exception("could not recover transcription jobs")
    ctx.repeat("transcription-recovery", ctx.settings.jobs.recovery_seconds, recover_transcriptions)
