"""Reading lectures back for the CLI and the API: each with its media, its job progress and its course."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.lectures import ACTIVE
from diemcau.adapters.db.models import JobRow, LectureRow
from diemcau.adapters.db.models_media import IngestRunRow, LectureMediaRow
from diemcau.core.lecture import LectureStatus


@dataclass(frozen=True)
class LectureRecord:
    """A lecture — or a publish whose source is not validated yet (no lecture row) — as it is reported."""

    id: str
    course_id: str
    title: str
    speaker: str
    resolution: str
    status: str
    duration_seconds: float | None
    sha256: str
    source: str
    error: str
    transcript: str
    stage: str
    progress: float
    created_at: dt.datetime | None


def _jobs_by_lecture(session: Session, lecture_ids: list[str]) -> dict[str, JobRow]:
    """Per lecture, the job to report: one still running if any, else the newest."""
    chosen: dict[str, JobRow] = {}
    query = select(JobRow).where(JobRow.lecture_id.in_(lecture_ids)).order_by(JobRow.created_at, JobRow.id)
    for job in session.scalars(query):
        current = chosen.get(job.lecture_id or "")
        if current is None or current.status not in ACTIVE or job.status in ACTIVE:
            chosen[job.lecture_id or ""] = job
    return chosen


def _record(row: LectureRow, media: LectureMediaRow | None, job: JobRow | None) -> LectureRecord:
    return LectureRecord(
        id=row.id,
        course_id=row.course_id,
        title=row.title,
        speaker=row.speaker,
        resolution=row.resolution,
        status=row.status,
        duration_seconds=row.duration_seconds,
        sha256=media.sha256 if media else "",
        source=media.source if media else "",
        error=(media.error if media else "") or (job.error if job else ""),
        transcript=media.transcript if media else "",
        stage=job.stage if job else "",
        progress=job.progress if job else 0.0,
        created_at=row.created_at,
    )


def _pending(run: IngestRunRow, job: JobRow | None) -> LectureRecord:
    request = run.request
    status = LectureStatus.FAILED if run.status == "failed" else LectureStatus.PROCESSING
    return LectureRecord(
        id=run.lecture_id,
        course_id=run.course_id,
        title=request.get("title", ""),
        speaker=request.get("speaker", ""),
        resolution=request.get("resolution", ""),
        status=str(status),
        duration_seconds=None,
        sha256="",
        source=request.get("label") or request.get("source", ""),
        error=job.error if job else "",
        transcript="",
        stage=job.stage if job else "",
        progress=job.progress if job else 0.0,
        created_at=run.created_at,
    )


def load_lectures(
    factory: sessionmaker[Session],
    course_ids: set[str] | None = None,
    *,
    pending: bool = False,
    failed: bool = False,
) -> list[LectureRecord]:
    """Lectures of ``course_ids`` (``None``: all) by course and position; with ``pending``, also publishes
    still being fetched or probed (they have no lecture row yet), and with ``failed`` those that failed before
    they had one (``_pending_runs``; the CLI's ``lecture list``; the studio follows its own publishes by id)."""
    with factory() as session:
        query = select(LectureRow, LectureMediaRow).outerjoin(
            LectureMediaRow, LectureMediaRow.lecture_id == LectureRow.id
        )
        if course_ids is not None:
            query = query.where(LectureRow.course_id.in_(course_ids))
        rows = list(session.execute(query.order_by(LectureRow.course_id, LectureRow.position, LectureRow.id)))
        runs = _pending_runs(session, course_ids, {row.id for row, _ in rows}, failed) if pending else []
        jobs = _jobs_by_lecture(session, [row.id for row, _ in rows] + [run.lecture_id for run in runs])
        records = [_record(row, media, jobs.get(row.id)) for row, media in rows]
        return records + [_pending(run, jobs.get(run.lecture_id)) for run in runs]


def _pending_runs(session: Session, course_ids: set[str] | None, known: set[str], failed: bool) -> list[IngestRunRow]:
    """Publishes without a lecture row: those under way and, with ``failed``, those that failed (a URL that could
    not be fetched, a file that is not media) unless a later publish of the same source in the same course took
    their place, so the operator sees why a lecture never appeared."""
    query = select(IngestRunRow).order_by(IngestRunRow.created_at.desc(), IngestRunRow.id.desc())
    if course_ids is not None:
        query = query.where(IngestRunRow.course_id.in_(course_ids))
    later: set[tuple[str, str]] = set()
    shown: list[IngestRunRow] = []
    for run in session.scalars(query):  # newest first: a failure is shown only if nothing of its source came after
        key = (run.course_id, str(run.request.get("source", "")))
        failure_shown = failed and run.status == "failed" and key not in later
        if run.lecture_id not in known and (run.status in ACTIVE or failure_shown):
            shown.append(run)
        later.add(key)
    return shown[::-1]


def load_lecture(factory: sessionmaker[Session], lecture_id: str, *, pending: bool = False) -> LectureRecord | None:
    """One lecture; with ``pending``, also a publish without a lecture row yet (under way or refused)."""
    with factory() as session:
        row = session.get(LectureRow, lecture_id)
        if row is not None:
            job = _jobs_by_lecture(session, [lecture_id]).get(lecture_id)
            return _record(row, session.get(LectureMediaRow, lecture_id), job)
        if not pending:
            return None
        run = session.scalars(select(IngestRunRow).where(IngestRunRow.lecture_id == lecture_id)).first()
        if run is None:
            return None
        return _pending(run, _jobs_by_lecture(session, [lecture_id]).get(lecture_id))


def media_of(factory: sessionmaker[Session], lecture_id: str) -> tuple[str, str, str] | None:
    """(course id, lecture status, sha256) of a lecture with media, for serving its files."""
    with factory() as session:
        query = (
            select(LectureRow.course_id, LectureRow.status, LectureMediaRow.sha256)
            .join(LectureMediaRow, LectureMediaRow.lecture_id == LectureRow.id)
            .where(LectureRow.id == lecture_id)
        )
        found = session.execute(query).first()
        return None if found is None else (found[0], found[1], found[2])
