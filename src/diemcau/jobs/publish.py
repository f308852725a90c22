"""Publishing a lecture, for the CLI and the API: check the request, reuse what exists, queue the ingest.

A local file (or an upload) is fetched and probed at once, in the caller's process, so a bad file is refused
before anything is queued and the trainer reads why straight away; the rest of the pipeline runs on the queue.
A URL has to be downloaded first, so all of it runs on the queue and its errors show in the job. The caller
hands in its stores (``stores.media`` for the probe, all of them for ``wait_for``'s indexing): the API's
runtime, the CLI command's or the demo seeder's.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import lectures as db
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.lecture_reads import LectureRecord, load_lecture
from diemcau.adapters.db.models import JobRow
from diemcau.adapters.storage import SharedVolume, Stores
from diemcau.core.lecture import LectureStatus, TranscriptState, new_lecture_id
from diemcau.jobs import ingest
from diemcau.jobs.context import install
from diemcau.jobs.queue import QueueUnavailable, configure_queue
from diemcau.media.errors import MediaError
from diemcau.media.fetch import hash_file, is_url
from diemcau.media.pipeline import run_pipeline
from diemcau.search.content import content_changed
from diemcau.settings import Settings

WORKER_FRESH_SECONDS = 15.0
log = logging.getLogger(__name__)
TERMINAL = frozenset({"done", "failed"})


class PublishError(Exception):
    """The request itself is wrong (no such course, no title); ``code`` is a key under ``media.``."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code, self.params = code, params


@dataclass(frozen=True)
class Published:
    """The outcome of a publish: the lecture id, and whether an existing lecture was returned instead."""

    lecture_id: str
    run_id: str
    existing: bool = False


def publish(
    settings: Settings, factory: sessionmaker[Session], media: SharedVolume, request: db.PublishRequest
) -> Published:
    """Start publishing ``request`` (its media to go on ``media``); raises ``PublishError`` or ``MediaError``
    (nothing is left behind then)."""
    if not request.title.strip():
        raise PublishError("title_required")
    with factory() as session:
        if not db.course_exists(session, request.course_id):
            raise PublishError("course_not_found", course=request.course_id)
    if is_url(request.source):
        return _publish_url(settings, factory, request)
    return _publish_file(settings, factory, media, request)


def _publish_url(settings: Settings, factory: sessionmaker[Session], request: db.PublishRequest) -> Published:
    with factory() as session:
        existing = db.existing_lecture(session, request.course_id, source=request.source)
    if existing:
        return Published(existing, "", existing=True)
    published = _create_run(factory, request)
    _enqueue(settings, published.run_id)
    return published


def _publish_file(
    settings: Settings, factory: sessionmaker[Session], media: SharedVolume, request: db.PublishRequest
) -> Published:
    path = Path(request.source)
    if not path.is_file():
        raise MediaError("file_not_found", path=str(path))
    with factory() as session:  # idempotent: the same bytes in the same course give back the same lecture
        existing = db.existing_lecture(session, request.course_id, sha256=hash_file(path))
    if existing:
        return Published(existing, "", existing=True)
    published = _create_run(factory, request)
    run = db.load_run(factory, published.run_id)
    assert run is not None
    try:  # fetch and probe here, so a bad file is refused at once
        run_pipeline(ingest.context_for(settings, run, media), ingest.DbRunLog(factory, run.id), until="probe")
    except MediaError as error:
        db.fail_run(factory, run.id, error.code, error.message())
        ingest.discard_work(settings, run.id)
        raise
    _enqueue(settings, published.run_id)
    return published


def _create_run(factory: sessionmaker[Session], request: db.PublishRequest) -> Published:
    run_id, lecture_id = uuid.uuid4().hex, new_lecture_id()
    with transaction(factory) as session:
        db.create_run(session, run_id, lecture_id, request)
    return Published(lecture_id, run_id)


def _enqueue(settings: Settings, run_id: str) -> None:
    """Queue the run's ingest. A queue that cannot be reached only delays it: the run is stored, and the workers'
    recovery sweep queues a run left unclaimed (``ingest.recover_runs``) once the queue is back."""
    try:
        configure_queue(settings)
        ingest.enqueue_ingest(run_id)
    except QueueUnavailable as error:
        log.warning("%s: ingest run %s left to the recovery sweep", error, run_id)


def worker_running(factory: sessionmaker[Session]) -> bool:
    """Has a ``diemcau worker`` reported in the last few seconds?"""
    return db.live_workers(factory, WORKER_FRESH_SECONDS) > 0


def is_finished(factory: sessionmaker[Session], lecture_id: str) -> bool:
    """Is there nothing left to wait for: the lecture ready or failed, and its transcription (if queued) over?"""
    record = load_lecture(factory, lecture_id, pending=True)
    if record is None or record.status == LectureStatus.FAILED:
        return True
    if record.status != LectureStatus.READY:
        return False
    if record.transcript != TranscriptState.QUEUED:
        return True
    with factory() as session:
        jobs = session.query(JobRow).filter(JobRow.lecture_id == lecture_id, JobRow.kind != db.INGEST).all()
        return bool(jobs) and all(job.status in TERMINAL for job in jobs)


def drain_queue(settings: Settings, stop: Callable[[], bool], idle_sleep: float = 0.2) -> None:
    """Run queued tasks in this process until ``stop()``, or until nothing is left to run (what ``--wait`` does
    when no worker is running)."""
    queue = configure_queue(settings)
    install(settings)
    while not stop():
        task = queue.dequeue()
        if task is not None:
            queue.execute(task)
            continue
        due = queue.read_schedule(dt.datetime.now(dt.UTC).replace(tzinfo=None) if queue.utc else dt.datetime.now())
        for task in due:  # retries waiting for their delay
            queue.enqueue(task)
        if not due and queue.pending_count() == 0 and queue.scheduled_count() == 0:
            return  # nothing left that could move the lecture on (e.g. a transcriber that writes no job row)
        if not due:
            time.sleep(idle_sleep)


def wait_for(
    settings: Settings,
    factory: sessionmaker[Session],
    stores: Stores,
    lecture_id: str,
    on_progress: Callable[[LectureRecord], None] = lambda record: None,
    poll: float = 0.5,
) -> LectureRecord:
    """Block until the lecture is finished, running the queue here when no worker is; returns its record."""
    finished = lambda: is_finished(factory, lecture_id)  # noqa: E731
    runner = None
    if not worker_running(factory):
        runner = threading.Thread(target=drain_queue, args=(settings, finished), name="in-process-jobs", daemon=True)
        runner.start()
    while not finished() and (runner is None or runner.is_alive()):
        record = load_lecture(factory, lecture_id, pending=True)
        if record is not None:
            on_progress(record)
        time.sleep(poll)
    if runner is not None:
        runner.join()
        content_changed(settings, factory, stores, lecture_id)  # what the jobs wrote here is searchable at once
    record = load_lecture(factory, lecture_id, pending=True)
    assert record is not None
    return record
