"""The lease columns of a ``jobs`` row (``owner``, ``heartbeat_at``): take, renew and let go of a job.

The rule deciding whether a holder is gone is ``jobs.lease.holder_gone``; these functions only apply it
atomically. Times are naive UTC, like the rest of the job tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import JobRow


def utcnow() -> dt.datetime:
    """Now, as naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


Gone = Callable[[str, dt.datetime | None], bool]


def take(factory: sessionmaker[Session], job_id: str, owner: str, gone: Gone, kind: str = "") -> bool:
    """Take the job's lease for ``owner`` unless a holder is alive (``gone(owner, heartbeat_at)`` says it is not).
    A missing row is made, held by ``owner``, when ``kind`` is given (quiz grading); else nothing is taken.

    Optimistic: the update lands only if the holder did not change meanwhile, so of two takers one wins."""
    if kind:
        try:
            with transaction(factory) as session:
                if session.get(JobRow, job_id) is None:
                    session.add(JobRow(id=job_id, kind=kind, status="running", owner=owner, heartbeat_at=utcnow()))
                    return True
        except IntegrityError:
            return False  # another taker made it first
    with transaction(factory) as session:
        job = session.get(JobRow, job_id)
        if job is None:
            return False
        if job.owner and not gone(job.owner, job.heartbeat_at):
            return False  # a live holder, another thread of this process included
        return bool(
            session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.owner == job.owner)
                .values(owner=owner, heartbeat_at=utcnow())
            ).rowcount
        )


def renew(factory: sessionmaker[Session], job_id: str, owner: str) -> bool:
    """The holder is still at it; False if the lease is no longer ``owner``'s (taken over after expiry)."""
    with transaction(factory) as session:
        stmt = update(JobRow).where(JobRow.id == job_id, JobRow.owner == owner).values(heartbeat_at=utcnow())
        return bool(session.execute(stmt).rowcount)


def give_up(factory: sessionmaker[Session], job_id: str, owner: str) -> None:
    """Let go of the lease (only if ``owner`` still holds it)."""
    with transaction(factory) as session:
        session.execute(update(JobRow).where(JobRow.id == job_id, JobRow.owner == owner).values(owner=""))
