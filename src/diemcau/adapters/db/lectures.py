"""Lectures and their ingest runs in the database: create, checkpoint, claim, finish, and read back.

Times are naive UTC from Python (not the server's clock), so SQLite and PostgreSQL compare them alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import CourseRow, JobRow, LectureRow
from diemcau.adapters.db.models_media import IngestRunRow, LectureMediaRow, WorkerHeartbeatRow
from diemcau.core.lecture import LectureStatus, TranscriptState

INGEST = "ingest"
ACTIVE = ("queued", "running")


def utcnow() -> dt.datetime:
    """Now, as naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class PublishRequest:
    """What a trainer asked for: the source, where it goes, and how it is described."""

    source: str
    course_id: str
    title: str
    speaker: str = ""
    resolution: str = ""
    transcribe: bool = True
    published_by: str = ""
    label: str = ""  # how to show the source when ``source`` is a temporary upload

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def create_run(session: Session, run_id: str, lecture_id: str, request: PublishRequest) -> IngestRunRow:
    """A new ingest run and its progress row (``jobs``), queued."""
    now = utcnow()
    run = IngestRunRow(
        id=run_id,
        lecture_id=lecture_id,
        course_id=request.course_id,
        request=request.to_json(),
        checkpoints={},
        stage_runs={},
        status="queued",
        owner="",
        created_at=now,
        updated_at=now,
    )
    session.add(run)
    session.add(JobRow(id=run_id, kind=INGEST, lecture_id=lecture_id, stage="", progress=0.0, status="queued"))
    session.flush()
    return run


def course_exists(session: Session, course_id: str) -> bool:
    """Is there a course with this id?"""
    return session.get(CourseRow, course_id) is not None


def existing_lecture(session: Session, course_id: str, *, sha256: str = "", source: str = "") -> str | None:
    """The id of a lecture of this course already made from this file (sha256) or URL, unless it failed.

    A publish still under way counts too (by its run), so a double click does not start two.
    """
    media = select(LectureRow.id).join(LectureMediaRow, LectureMediaRow.lecture_id == LectureRow.id)
    media = media.where(LectureRow.course_id == course_id, LectureRow.status != LectureStatus.FAILED)
    media = media.where(LectureMediaRow.sha256 == sha256 if sha256 else LectureMediaRow.source == source)
    found = session.scalars(media).first()
    if found or not source:
        return found
    runs = select(IngestRunRow).where(IngestRunRow.course_id == course_id, IngestRunRow.status.in_(ACTIVE))
    return next((run.lecture_id for run in session.scalars(runs) if run.request.get("source") == source), None)


def load_run(factory: sessionmaker[Session], run_id: str) -> IngestRunRow | None:
    """The run, detached (read its fields freely)."""
    with factory() as session:
        return session.get(IngestRunRow, run_id)


def run_of_lecture(factory: sessionmaker[Session], lecture_id: str) -> IngestRunRow | None:
    """The newest run that made (or is making) this lecture."""
    with factory() as session:
        query = select(IngestRunRow).where(IngestRunRow.lecture_id == lecture_id)
        return session.scalars(query.order_by(IngestRunRow.created_at.desc())).first()


def record_checkpoint(factory: sessionmaker[Session], run_id: str, stage: str, output: dict[str, Any]) -> None:
    """Store a finished stage's output (a new dict, so the JSON column is written)."""
    with transaction(factory) as session:
        run = session.get(IngestRunRow, run_id)
        if run is None:
            return
        run.checkpoints = {**run.checkpoints, stage: output}
        run.updated_at = utcnow()


def count_stage_start(factory: sessionmaker[Session], run_id: str, stage: str) -> None:
    """Count one more start of ``stage``."""
    with transaction(factory) as session:
        run = session.get(IngestRunRow, run_id)
        if run is not None:
            run.stage_runs = {**run.stage_runs, stage: int(run.stage_runs.get(stage, 0)) + 1}


def report_progress(factory: sessionmaker[Session], run_id: str, stage: str, percent: float) -> None:
    """Update the run's ``jobs`` row (percent 0–100) and its heartbeat."""
    now = utcnow()
    with transaction(factory) as session:
        session.execute(
            update(JobRow).where(JobRow.id == run_id).values(stage=stage, progress=round(percent, 1), status="running")
        )
        session.execute(update(IngestRunRow).where(IngestRunRow.id == run_id).values(heartbeat_at=now))


def beat(factory: sessionmaker[Session], run_id: str, owner: str) -> bool:
    """The owner of a run is still at it; False if the run is no longer ``owner``'s (taken over)."""
    with transaction(factory) as session:
        return bool(
            session.execute(
                update(IngestRunRow)
                .where(IngestRunRow.id == run_id, IngestRunRow.owner == owner)
                .values(heartbeat_at=utcnow())
            ).rowcount
        )


def claim_run(factory: sessionmaker[Session], run_id: str, owner: str, is_abandoned) -> bool:  # type: ignore[no-untyped-def]
    """Take the run for ``owner`` unless another live worker holds it or it is over; ``is_abandoned(run)``
    decides whether a holder is gone. Optimistic: the update only lands if the holder did not change meanwhile."""
    with transaction(factory) as session:
        run = session.get(IngestRunRow, run_id)
        if run is None or run.status not in ACTIVE:
            return False
        if run.owner and run.owner != owner and not is_abandoned(run):
            return False
        claimed = session.execute(
            update(IngestRunRow)
            .where(IngestRunRow.id == run_id, IngestRunRow.owner == run.owner)
            .values(owner=owner, status="running", heartbeat_at=utcnow(), updated_at=utcnow())
        ).rowcount
        if claimed:
            job = session.get(JobRow, run_id)
            if job is not None:
                job.status, job.attempts = "running", job.attempts + 1
        return bool(claimed)


def release_run(factory: sessionmaker[Session], run_id: str, owner: str, status: str = "queued") -> None:
    """Let go of a run (to be retried: back to ``queued``)."""
    with transaction(factory) as session:
        session.execute(
            update(IngestRunRow)
            .where(IngestRunRow.id == run_id, IngestRunRow.owner == owner)
            .values(owner="", status=status, updated_at=utcnow())
        )
        session.execute(update(JobRow).where(JobRow.id == run_id).values(status=status))


def active_runs(factory: sessionmaker[Session]) -> list[IngestRunRow]:
    """Runs not yet done or failed."""
    with factory() as session:
        return list(session.scalars(select(IngestRunRow).where(IngestRunRow.status.in_(ACTIVE))))


def create_lecture(
    factory: sessionmaker[Session], run_id: str, sha256: str, duration: float, has_video: bool, width: int, height: int
) -> None:
    """The media passed validation: the lecture row appears now (status processing), with its media row."""
    with transaction(factory) as session:
        run = session.get(IngestRunRow, run_id)
        if run is None or session.get(LectureRow, run.lecture_id) is not None:
            return
        request = run.request
        position = len(session.scalars(select(LectureRow.id).where(LectureRow.course_id == run.course_id)).all())
        session.add(
            LectureRow(
                id=run.lecture_id,
                course_id=run.course_id,
                title=request["title"],
                speaker=request.get("speaker", ""),
                resolution=request.get("resolution", ""),
                position=position,
                status=LectureStatus.PROCESSING,
                duration_seconds=duration,
            )
        )
        session.flush()
        session.add(
            LectureMediaRow(
                lecture_id=run.lecture_id,
                sha256=sha256,
                source=(request.get("label") or request["source"])[:2000],
                has_video=has_video,
                width=width,
                height=height,
                error="",
                transcript="skipped",
                published_by=request.get("published_by", ""),
                created_at=utcnow(),
            )
        )


def finish_run(factory: sessionmaker[Session], run_id: str, transcript: str) -> None:
    """The media is in the store: the lecture is ready, the run and its job done."""
    now = utcnow()
    with transaction(factory) as session:
        run = session.get(IngestRunRow, run_id)
        if run is None:
            return
        run.status, run.owner, run.updated_at = "done", "", now
        session.execute(update(JobRow).where(JobRow.id == run_id).values(status="done", progress=100.0, stage="done"))
        session.execute(update(LectureRow).where(LectureRow.id == run.lecture_id).values(status=LectureStatus.READY))
        # A transcription queued by this run may already have ended (a fast worker): its ready/failed stands.
        ended = LectureMediaRow.transcript.in_([str(TranscriptState.READY), str(TranscriptState.FAILED)])
        state = (
            case((ended, LectureMediaRow.transcript), else_=transcript)
            if transcript == TranscriptState.QUEUED
            else transcript
        )
        session.execute(
            update(LectureMediaRow)
            .where(LectureMediaRow.lecture_id == run.lecture_id)
            .values(ready_at=now, transcript=state, error="")
        )


def fail_run(factory: sessionmaker[Session], run_id: str, code: str, message: str) -> None:
    """The run cannot finish: the job and (if it exists) the lecture are marked failed with the message."""
    with transaction(factory) as session:
        run = session.get(IngestRunRow, run_id)
        if run is None:
            return
        run.status, run.owner, run.updated_at = "failed", "", utcnow()
        run.checkpoints = {**run.checkpoints, "error": {"code": code}}
        session.execute(update(JobRow).where(JobRow.id == run_id).values(status="failed", error=message[:2000]))
        session.execute(update(LectureRow).where(LectureRow.id == run.lecture_id).values(status=LectureStatus.FAILED))
        session.execute(
            update(LectureMediaRow).where(LectureMediaRow.lecture_id == run.lecture_id).values(error=message[:2000])
        )


def worker_beat(factory: sessionmaker[Session], worker_id: str, host: str, pid: int) -> None:
    """A worker process is alive."""
    with transaction(factory) as session:
        row = session.get(WorkerHeartbeatRow, worker_id)
        if row is None:
            session.add(WorkerHeartbeatRow(id=worker_id, host=host, pid=pid, seen_at=utcnow()))
        else:
            row.seen_at = utcnow()


def worker_gone(factory: sessionmaker[Session], worker_id: str) -> None:
    """A worker process stops cleanly."""
    with transaction(factory) as session:
        row = session.get(WorkerHeartbeatRow, worker_id)
        if row is not None:
            session.delete(row)


def live_workers(factory: sessionmaker[Session], within_seconds: float) -> int:
    """How many workers said they were alive in the last ``within_seconds``."""
    since = utcnow() - dt.timedelta(seconds=within_seconds)
    with factory() as session:
        return len(session.scalars(select(WorkerHeartbeatRow.id).where(WorkerHeartbeatRow.seen_at >= since)).all())
