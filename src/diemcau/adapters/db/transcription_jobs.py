"""Transcription jobs in the ``jobs`` table: one row per lecture (``transcribe-<lecture id>``), reused on re-runs.

Times are naive UTC from Python, like the ingest runs, so SQLite and PostgreSQL compare them alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.materials import list_materials
from diemcau.adapters.db.models import JobRow, LectureRow
from diemcau.adapters.db.models_media import LectureMediaRow
from diemcau.core.lecture import TranscriptState, materials_changed_since

KIND = "transcribe"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def job_id(lecture_id: str) -> str:
    """The id of a lecture's transcription job."""
    return f"{KIND}-{lecture_id}"


def lecture_exists(factory: sessionmaker[Session], lecture_id: str) -> bool:
    """Is there a lecture row with this id?"""
    with factory() as session:
        return session.get(LectureRow, lecture_id) is not None


def queue_job(factory: sessionmaker[Session], lecture_id: str) -> str:
    """Create or reset the lecture's job as queued (a re-run starts a fresh report); returns its id."""
    with transaction(factory) as session:
        job = session.get(JobRow, job_id(lecture_id))
        if job is None:
            job = JobRow(id=job_id(lecture_id), kind=KIND, lecture_id=lecture_id, attempts=0)
            session.add(job)
        job.status, job.stage, job.progress, job.error = "queued", "", 0.0, ""
        job.created_at = job.updated_at = _now()
        _set_state(session, lecture_id, TranscriptState.QUEUED)
    return job_id(lecture_id)


def _set_state(session: Session, lecture_id: str, state: TranscriptState) -> None:
    """What the lecture reports of its transcript (``lecture show``, the API), kept with the job's own status."""
    session.execute(
        update(LectureMediaRow).where(LectureMediaRow.lecture_id == lecture_id).values(transcript=str(state))
    )


def start_job(factory: sessionmaker[Session], lecture_id: str) -> int:
    """Mark the job running (creating it if a task came without one); returns this attempt's number."""
    if load_job(factory, lecture_id) is None:
        queue_job(factory, lecture_id)
    with transaction(factory) as session:
        job = session.get(JobRow, job_id(lecture_id))
        assert job is not None
        job.status, job.error, job.attempts, job.updated_at = "running", "", job.attempts + 1, _now()
        return job.attempts


def report(factory: sessionmaker[Session], lecture_id: str, stage: str, percent: float) -> None:
    """The job's stage and progress (percent, 0–100)."""
    with transaction(factory) as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == job_id(lecture_id))
            .values(stage=stage, progress=round(percent, 1), updated_at=_now())
        )


def finish_job(factory: sessionmaker[Session], lecture_id: str, status: str = "done", error: str = "") -> None:
    """The job ended: ``done`` (progress 100) or ``failed`` with the trainer-facing ``error``."""
    values = {"status": status, "error": error[:2000], "updated_at": _now()}
    if status == "done":
        values |= {"progress": 100.0, "stage": "done"}
    with transaction(factory) as session:
        session.execute(update(JobRow).where(JobRow.id == job_id(lecture_id)).values(**values))
        _set_state(session, lecture_id, TranscriptState.READY if status == "done" else TranscriptState.FAILED)


def requeue_job(factory: sessionmaker[Session], lecture_id: str) -> None:
    """Put a job whose worker died back to queued (its progress stays: the checkpoint keeps the work)."""
    with transaction(factory) as session:
        session.execute(
            update(JobRow).where(JobRow.id == job_id(lecture_id)).values(status="queued", updated_at=_now())
        )


def load_job(factory: sessionmaker[Session], lecture_id: str) -> JobRow | None:
    """The lecture's transcription job, if it ever had one."""
    with factory() as session:
        return session.get(JobRow, job_id(lecture_id))


def waiting_jobs(factory: sessionmaker[Session], older_than_seconds: float) -> list[JobRow]:
    """Transcription jobs marked queued and not touched for that long (some may have lost their task)."""
    before = _now() - dt.timedelta(seconds=older_than_seconds)
    with factory() as session:
        query = select(JobRow).where(JobRow.kind == KIND, JobRow.status == "queued", JobRow.updated_at < before)
        return list(session.scalars(query))


def running_jobs(factory: sessionmaker[Session]) -> list[JobRow]:
    """Transcription jobs marked running (some may have lost their worker)."""
    with factory() as session:
        return list(session.scalars(select(JobRow).where(JobRow.kind == KIND, JobRow.status == "running")))


@dataclass(frozen=True)
class Transcription:
    """Where a lecture's transcription stands, for the studio: the job's ``status`` (``none`` without a job),
    when the finished one was queued, and the latest upload of a material with text since then."""

    status: str
    stage: str
    progress: float
    error: str
    transcribed_at: dt.datetime | None
    materials_changed_at: dt.datetime | None

    @property
    def busy(self) -> bool:
        """Is a transcription queued or running?"""
        return self.status in ("queued", "running")


def transcription_of(factory: sessionmaker[Session], lecture_id: str) -> Transcription:
    """The lecture's ``Transcription`` (``core.lecture.materials_changed_since`` on its materials with text)."""
    job = load_job(factory, lecture_id)
    if job is None:
        return Transcription("none", "", 0.0, "", None, None)
    made = job.created_at if job.status == "done" else None
    uploads = [m.uploaded_at for m in list_materials(factory, lecture_id) if m.has_text]
    return Transcription(job.status, job.stage, job.progress, job.error, made, materials_changed_since(made, uploads))
