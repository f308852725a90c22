"""How often each stretch of a lecture was watched again (counts only, no member), for lecture analytics."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from diemcau.adapters.db.models import Base


class ReplayBucketRow(Base):
    """Replayed seconds within ``[bucket*10 s, (bucket+1)*10 s)`` of a lecture (see ``core.replays``)."""

    __tablename__ = "lecture_replay_buckets"

    lecture_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    replayed_seconds: Mapped[float] = mapped_column(default=0.0)
