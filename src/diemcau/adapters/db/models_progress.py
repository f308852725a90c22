"""What members watched: raw player events (kept for replay-safety and analytics) and a per-lecture summary."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from diemcau.adapters.db.models import Base


class ProgressEventRow(Base):
    """One player event as received; the unique key makes an offline replay a no-op."""

    __tablename__ = "progress_events"
    __table_args__ = (UniqueConstraint("member", "lecture_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member: Mapped[str] = mapped_column(String(32), index=True)
    lecture_id: Mapped[str] = mapped_column(String(32), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    start: Mapped[float] = mapped_column()
    end: Mapped[float] = mapped_column()
    seq: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class LectureProgressRow(Base):
    """The merged watched intervals of one member for one lecture, with coverage and resume position."""

    __tablename__ = "lecture_progress"

    member: Mapped[str] = mapped_column(String(32), primary_key=True)
    lecture_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    intervals: Mapped[list[list[float]]] = mapped_column(JSON, default=list)
    watched_seconds: Mapped[float] = mapped_column(default=0.0)
    coverage_percent: Mapped[float] = mapped_column(default=0.0)
    resume_position: Mapped[float] = mapped_column(default=0.0)
    last_seq: Mapped[int] = mapped_column(Integer, default=-1)
    # When the member first opened the lecture's player or downloaded it (naive UTC); ``core.progress.Pace``
    # bounds watched time by the time since. A row may hold only this (opened, nothing watched yet).
    first_contact_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now(), onupdate=func.now())


class ProgressRefusalRow(Base):
    """Per lecture, the watched seconds claimed faster than real time allows and refused (no member stored:
    the log names them); shown with the lecture's analytics."""

    __tablename__ = "lecture_progress_refusals"

    lecture_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    refused_seconds: Mapped[float] = mapped_column(default=0.0)
    refused_posts: Mapped[int] = mapped_column(Integer, default=0)


class ScreeningRow(Base):
    """A group screening (học tập tập trung tại điểm cầu) of a lecture, recorded by a cell secretary."""

    __tablename__ = "screenings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lecture_id: Mapped[str] = mapped_column(String(32), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(255), default="")
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class ScreeningAttendanceRow(Base):
    """One member present at a screening; counts toward that member's completion, marked as such."""

    __tablename__ = "screening_attendance"

    screening_id: Mapped[int] = mapped_column(ForeignKey("screenings.id", ondelete="CASCADE"), primary_key=True)
    member: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
