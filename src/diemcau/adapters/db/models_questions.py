"""Questions members ask at a moment of a lecture, and the trainers' answers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from diemcau.adapters.db.models import Base


class LectureQuestionRow(Base):
    """One question; ``asker_path`` is the asker's cell when they asked (a later move does not carry it)."""

    __tablename__ = "lecture_questions"
    __table_args__ = (
        Index("ix_lecture_questions_lecture_moment", "lecture_id", "moment"),
        Index("ix_lecture_questions_waiting", "answered_at", "asker_path"),
        UniqueConstraint("asker", "client_id", name="uq_lecture_questions_asker_client_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lecture_id: Mapped[str] = mapped_column(String(32))
    course_id: Mapped[str] = mapped_column(String(64), index=True)
    asker: Mapped[str] = mapped_column(String(32), index=True)
    asker_path: Mapped[str] = mapped_column(String(1024), index=True)
    moment: Mapped[float] = mapped_column()
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    scope: Mapped[str] = mapped_column(String(8), default="cell")
    # Moderation (migration questions2): set while a trainer keeps the question from everyone but its asker.
    hidden_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    hidden_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    hidden_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The id the asker's device gave the question (migration offask1): a replayed post finds it and stores
    # nothing (unique per asker; NULL for old clients, and NULLs never collide).
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
