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

_TABLE = ReplayBucketRow.__table__


def _upsert(dialect_insert):  # type: ignore[no-untyped-def]
    statement = dialect_insert(_TABLE)
    return statement.on_conflict_do_update(
        index_elements=[_TABLE.c.lecture_id, _TABLE.c.bucket],
        set_={"replayed_seconds": _TABLE.c.replayed_seconds + statement.excluded.replayed_seconds},
    )


# Built once: building and cache-keying the statement per batch of heartbeats cost more than running it.
_UPSERTS = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}


def add_replays(session: Session, seconds: Mapping[tuple[str, int], float]) -> None:
    """Add replayed seconds to lectures' stretches, keyed by (lecture id, stretch index): one
    ``INSERT … ON CONFLICT DO UPDATE`` statement, sent once with a row per stretch (each key at most once, as
    PostgreSQL requires of one statement)."""
    if not seconds:
        return
    rows = [
        {"lecture_id": lecture_id, "bucket": k, "replayed_seconds": v} for (lecture_id, k), v in sorted(seconds.items())
    ]
    session.execute(_UPSERTS[session.get_bind().dialect.name], rows)


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
        add_replays(session, {(lecture_id, k): round(v, 3) for k, v in total.items()})
        return dict(total)
