"""Lecture materials: one row per file a trainer attached to a lecture (the file itself is in the data folder)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from diemcau.adapters.db.models import Base


class LectureMaterialRow(Base):
    """A material of a lecture, unique by name within it. ``sha256`` and ``kind`` locate the stored file
    (``core.material.stored_file_name``); ``pages`` and ``text_chars`` (letters) say what extraction found
    (0 letters: a scan, downloadable but not searchable). ``state`` is where the background extraction stands:
    ``processing``, ``ready``, ``too_big`` (cut off by its memory or time bound) or the refusal code of a file
    it could not read (``encrypted_pdf``, ``corrupt_pdf``, …); only ``ready`` materials are searchable."""

    __tablename__ = "lecture_materials"
    __table_args__ = (UniqueConstraint("lecture_id", "name", name="uq_lecture_materials_lecture_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lecture_id: Mapped[str] = mapped_column(ForeignKey("lectures.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    text_chars: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by: Mapped[str] = mapped_column(String(64), default="")
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    state: Mapped[str] = mapped_column(String(16), default="ready", server_default="ready")
