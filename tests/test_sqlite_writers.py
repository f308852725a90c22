"""Concurrent writers on a SQLite file: each waits its turn for the write lock, and none loses another's update.

The driver used to begin a transaction only at its first write, so what a writer read before writing (the
member's progress row it then merges into) was read outside its transaction: two writers merged into the same
stale row and one update was lost, or both inserted it and one failed. Under load, writers also gave up with
"database is locked" after a 5 s busy timeout. ``transaction`` now begins ``BEGIN IMMEDIATE`` on SQLite and
writers wait up to ``SQLITE_BUSY_TIMEOUT_MS``.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import SQLITE_BUSY_TIMEOUT_MS, transaction
from diemcau.adapters.db.models_progress import LectureProgressRow, ProgressEventRow
from diemcau.adapters.db.progress import load_progress, record_events
from diemcau.core.progress import EventKind, ProgressEvent

THREADS, WRITES = 8, 25


def _run_threads(target) -> list[BaseException]:  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def body(n: int) -> None:
        start.wait()
        try:
            target(n)
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=body, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_concurrent_inserts_all_land(sqlite_factory: sessionmaker[Session]) -> None:
    """Do 8 threads each committing 25 small transactions at once all succeed — none refused with "database is
    locked" — and every row land?"""
    factory = sqlite_factory

    def writer(n: int) -> None:
        for i in range(WRITES):
            with transaction(factory) as session:
                session.add(
                    ProgressEventRow(
                        member=f"m{n}", lecture_id="lec", event_id=f"e{i}", kind="heartbeat", start=0.0, end=1.0, seq=i
                    )
                )

    assert _run_threads(writer) == []
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(ProgressEventRow)) == THREADS * WRITES


def test_read_modify_write_loses_no_update(sqlite_factory: sessionmaker[Session]) -> None:
    """Do 8 threads each incrementing one shared counter 25 times (read it, then write it + 1, in one
    transaction) end at exactly 200 — no increment lost, no error?"""
    factory = sqlite_factory
    with transaction(factory) as session:
        session.add(LectureProgressRow(member="counter", lecture_id="lec", intervals=[], last_seq=0))

    def increment(_n: int) -> None:
        for _ in range(WRITES):
            with transaction(factory) as session:
                row = session.get(LectureProgressRow, ("counter", "lec"))
                assert row is not None
                row.last_seq += 1

    assert _run_threads(increment) == []
    with factory() as session:
        counter = session.get(LectureProgressRow, ("counter", "lec"))
        assert counter is not None and counter.last_seq == THREADS * WRITES


def test_concurrent_progress_for_one_member_merges_every_event(sqlite_factory: sessionmaker[Session]) -> None:
    """Do 8 threads posting different heartbeats of the same member and lecture at once all count — the first
    ones not colliding on creating the progress row, later ones not merging into a stale one?"""
    factory = sqlite_factory

    def player(n: int) -> None:
        for i in range(WRITES):
            start = (n * WRITES + i) * 10.0
            record_events(
                factory,
                "m",
                "lec",
                10_000.0,
                [ProgressEvent(f"e{n}-{i}", EventKind.HEARTBEAT, start, start + 10.0, n * WRITES + i)],
            )

    assert _run_threads(player) == []
    assert load_progress(factory, "m", "lec").watched_seconds == THREADS * WRITES * 10.0


def test_a_sqlite_transaction_holds_the_write_lock_from_its_start(sqlite_factory: sessionmaker[Session]) -> None:
    """Does ``transaction`` on SQLite begin ``IMMEDIATE`` (in a transaction before any statement of its own),
    with writers told to wait up to the busy timeout?"""
    factory = sqlite_factory
    with transaction(factory) as session:
        raw = session.connection().connection.dbapi_connection
        assert raw is not None and raw.in_transaction
        assert session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
    with factory() as session:  # plain reads do not take the lock
        session.scalar(select(func.count()).select_from(ProgressEventRow))
        raw = session.connection().connection.dbapi_connection
        assert raw is not None and not raw.in_transaction
