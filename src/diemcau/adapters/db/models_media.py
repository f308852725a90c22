"""ORM models of the media area: a lecture's media, ingest runs with their checkpoints, worker heartbeats.

A lecture row (``lectures``) exists only once its source passed validation; until then a publish is an
``ingest_runs`` row (and a ``jobs`` row for its progress) holding the lecture id it will create.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from diemcau.adapters.db.models import Base


class LectureMediaRow(Base):
    """The media behind a lecture: which source (by sha256), where it came from, and what became of it."""

    __tablename__ = "lecture_media"

    lecture_id: Mapped[str] = mapped_column(ForeignKey("lectures.id", ondelete="CASCADE"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(2000))
    has_video: Mapped[bool] = mapped_column(Boolean, default=False)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(2000), default="")
    transcript: Mapped[str] = mapped_column(String(16), default="skipped")
    published_by: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ready_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class IngestRunRow(Base):
    """One publish being carried out: what was asked, which stages finished (with their outputs), who runs it.

    ``id`` is also the id of its ``jobs`` row. ``checkpoints`` maps a finished stage to its output (JSON);
    ``stage_runs`` counts how often each stage started, which shows that a resumed run skipped finished ones.
    ``owner`` is the worker holding the run (``host:pid``) and ``heartbeat_at`` when it last said so.
    """

    __tablename__ = "ingest_runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lecture_id: Mapped[str] = mapped_column(String(32), unique=True)
    course_id: Mapped[str] = mapped_column(String(64), index=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    checkpoints: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stage_runs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    owner: Mapped[str] = mapped_column(String(128), default="")
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class WorkerHeartbeatRow(Base):
    """A running ``diemcau worker`` process says it is alive every few seconds (the CLI's ``--wait`` reads it)."""

    __tablename__ = "worker_heartbeats"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
