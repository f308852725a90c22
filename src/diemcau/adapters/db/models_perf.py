"""Indexes for the API's hot paths on tables defined in other model modules (migration ``perf1``).

Every authenticated request resolves its caller with ``accounts.find_member``, which compares
``lower(card_number)`` (hub usernames are lowercase; the roster stores cards upper-cased, older rows may not
be). The unique index on ``card_number`` cannot serve that comparison, so without this one each lookup read
every member of the province (SQLite: ``SCAN members``; PostgreSQL: a sequential scan).
"""

from __future__ import annotations

from sqlalchemy import Index, func

from diemcau.adapters.db.models import MemberRow

MEMBER_CARD_LOWER = Index("ix_members_card_number_lower", func.lower(MemberRow.card_number))
