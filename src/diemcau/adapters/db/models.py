"""ORM models of the application database. Migrations in ``migrations/`` must follow any change here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class OrgUnitRow(Base):
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(1024), unique=True, index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), nullable=True)


class MemberRow(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_number: Mapped[str] = mapped_column(String(32), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    activation_code_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    activation_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # The last activation code used (its hash): a member who types it again is told it was used (accounts.activate).
    spent_code_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now(), onupdate=func.now())

    org_unit: Mapped[OrgUnitRow] = relationship()
    grants: Mapped[list[RoleGrantRow]] = relationship(back_populates="member", cascade="all, delete-orphan")


class LoginThrottleRow(Base):
    """One throttle counter of login and activation guessing (``core.credentials.Scope``): per account and address,
    per address, per account. Keyed by the card number as typed, so unknown cards are counted like known ones."""

    __tablename__ = "login_throttle"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True, index=True)


class RoleGrantRow(Base):
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("member_id", "role", "org_unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), nullable=True)

    member: Mapped[MemberRow] = relationship(back_populates="grants")
    org_unit: Mapped[OrgUnitRow | None] = relationship()


class CourseRow(Base):
    __tablename__ = "courses"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    resolutions: Mapped[list[str]] = mapped_column(JSON, default=list)
    deadline: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    completion_rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())

    audience: Mapped[list[OrgUnitRow]] = relationship(secondary="course_audience")
    lectures: Mapped[list[LectureRow]] = relationship(back_populates="course", order_by="LectureRow.position")


class CourseAudienceRow(Base):
    __tablename__ = "course_audience"

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)


class LectureRow(Base):
    __tablename__ = "lectures"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    speaker: Mapped[str] = mapped_column(String(255), default="")
    resolution: Mapped[str] = mapped_column(String(255), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    duration_seconds: Mapped[float | None] = mapped_column(nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())

    course: Mapped[CourseRow] = relationship(back_populates="lectures")


class JobRow(Base):
    """Progress of one background job, for the CLI, the studio and the API (huey holds the queue itself)."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    lecture_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    stage: Mapped[str] = mapped_column(String(32), default="")
    progress: Mapped[float] = mapped_column(default=0.0)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str] = mapped_column(String(2000), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now(), onupdate=func.now())
    # The job's lease (``jobs.lease``): the worker holding it (``host:pid``) and when it last renewed it.
    owner: Mapped[str] = mapped_column(String(128), default="", server_default="")
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
