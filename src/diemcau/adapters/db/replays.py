"""The per-lecture counter of replayed seconds (see ``core.replays``): one UPSERT per batch of player events.

``add_replays`` runs inside the progress ingest's transaction (``adapters.db.progress.record_events``), so a
batch's coverage and its replays commit together and an offline queue sent twice counts once (events already
seen are dropped before either is computed). ``rebuild_replays`` recounts a lecture from the stored raw events
(for lectures watched before the counter existed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models_progress import ProgressEventRow
from diemcau.adapters.db.models_replays import ReplayBucketRow
from diemcau.core.progress import EventKind, ProgressEvent
from diemcau.core.replays import replayed_spans, seconds_by_bucket

_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def add_replays(session: Session, lecture_id: str, seconds: Mapping[int, float]) -> None:
    """Add replayed seconds to a lecture's stretches: one ``INSERT … ON CONFLICT DO UPDATE`` statement, sent
    once with a row per stretch (Core and a fixed statement, so SQLAlchemy compiles it once per process)."""
    if not seconds:
        return
    insert = _INSERTS[session.get_bind().dialect.name]
    table = ReplayBucketRow.__table__
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.lecture_id, table.c.bucket],
        set_={"replayed_seconds": table.c.replayed_seconds + statement.excluded.replayed_seconds},
    )
    rows = [{"lecture_id": lecture_id, "bucket": k, "replayed_seconds": v} for k, v in sorted(seconds.items())]
    session.execute(statement, rows)


def load_replays(factory: sessionmaker[Session], lecture_id: str) -> dict[int, float]:
    """Replayed seconds by stretch index of one lecture."""
    with factory() as session:
        query = select(ReplayBucketRow.bucket, ReplayBucketRow.replayed_seconds).where(
            ReplayBucketRow.lecture_id == lecture_id
        )
        return {k: v for k, v in session.execute(query)}


def rebuild_replays(factory: sessionmaker[Session], lecture_id: str, duration: float) -> dict[int, float]:
    """Recount a lecture's replays from every stored player event, replacing the counter; returns it."""
    with transaction(factory) as session:
        query = select(ProgressEventRow).where(ProgressEventRow.lecture_id == lecture_id)
        by_member: dict[str, list[ProgressEvent]] = defaultdict(list)
        for row in session.scalars(query.execution_options(yield_per=5000)):
            by_member[row.member].append(ProgressEvent(row.event_id, EventKind(row.kind), row.start, row.end, row.seq))
        total: dict[int, float] = defaultdict(float)
        for events in by_member.values():
            for k, v in seconds_by_bucket(replayed_spans(events, duration)).items():
                total[k] += v
        session.execute(delete(ReplayBucketRow).where(ReplayBucketRow.lecture_id == lecture_id))
        add_replays(session, lecture_id, {k: round(v, 3) for k, v in total.items()})
        return dict(total)
