"""What dashboards need beyond the records: how often each search term found each lecture (no user stored)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from diemcau.adapters.db.models import Base


class SearchTermCountRow(Base):
    """A search term (lowercased, spaces collapsed) and a lecture among its hits, with how often that happened.

    Counts only, never who searched: the lecture analytics page shows trainers what members look for.
    """

    __tablename__ = "search_term_counts"

    term: Mapped[str] = mapped_column(String(100), primary_key=True)
    lecture_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now(), onupdate=func.now())
