"""ORM models of quizzes: released quizzes, every submission (stored before it is graded), members' drafts.

The scores themselves live in nbgrader's gradebook; a submission row keeps a copy of its graded result so API
nodes can answer members without the gradebook's files, and the grading queue can be rebuilt from it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from diemcau.adapters.db.models import Base


class QuizRow(Base):
    """A released quiz: its public form (no keys) and its window, in UTC."""

    __tablename__ = "quizzes"

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    quiz_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    form: Mapped[dict[str, Any]] = mapped_column(JSON)
    opens_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    closes_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    released_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class QuizSubmissionRow(Base):
    """One attempt of one member at one quiz. ``client_id`` makes a replayed submission idempotent."""

    __tablename__ = "quiz_submissions"
    __table_args__ = (
        ForeignKeyConstraint(["course_id", "quiz_id"], ["quizzes.course_id", "quizzes.quiz_id"], ondelete="CASCADE"),
        UniqueConstraint("member_id", "course_id", "quiz_id", "client_id", name="uq_quiz_submission_client"),
        UniqueConstraint("member_id", "course_id", "quiz_id", "attempt", name="uq_quiz_submission_attempt"),
        Index("ix_quiz_submissions_quiz", "course_id", "quiz_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    course_id: Mapped[str] = mapped_column(String(64))
    quiz_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    feedback: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    graded_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    grading_error: Mapped[str] = mapped_column(String(2000), default="")
    essay_category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    essay_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    essay_graded_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    essay_graded_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class QuizDraftRow(Base):
    """A member's unsent answers, saved as they type, so a dropped connection loses nothing."""

    __tablename__ = "quiz_drafts"
    __table_args__ = (
        ForeignKeyConstraint(["course_id", "quiz_id"], ["quizzes.course_id", "quizzes.quiz_id"], ondelete="CASCADE"),
    )

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    quiz_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
