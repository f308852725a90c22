"""Engine and sessions: SQLite in WAL mode by default, PostgreSQL when the URL says so."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


# How long a SQLite writer waits for the write lock before "database is locked": writers queue behind each
# other (API, job workers, CLI) rather than fail; a progress burst on a busy machine took over 5 s.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _enable_sqlite_wal(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed while the one writer writes; busy_timeout makes writers wait for the lock.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# Connections kept open per process. The API reads from its thread pool (40 threads): with SQLAlchemy's default
# of 5, a burst of reads opened and closed "overflow" connections each time (on SQLite three PRAGMAs each), which
# was most of the CPU of a progress post whose caller was not cached (bench/progress_ingest.py).
SQLITE_POOL_SIZE, POSTGRES_POOL_SIZE, POOL_OVERFLOW = 40, 10, 20


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; SQLite connections get WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, pool_size=SQLITE_POOL_SIZE, max_overflow=POOL_OVERFLOW
        )
        event.listen(engine, "connect", _enable_sqlite_wal)
        return engine
    engine = create_engine(url, pool_size=POSTGRES_POOL_SIZE, max_overflow=POOL_OVERFLOW)
    ping_idle_connections(engine)
    return engine


# A pooled PostgreSQL connection left unused this long is checked before it is handed out; one used more recently
# is not (docs/benchmarks.md, "Scale-out"): checking every checkout (SQLAlchemy's ``pool_pre_ping``) cost each
# transaction a round trip, a sixth of a heartbeat batch's statements. What the check is for: a server restarted or
# a connection dropped by a firewall while idle. A connection that breaks while in use fails its transaction
# (the group writer runs its requests again each alone, on fresh connections), and SQLAlchemy then discards every
# connection the pool held.
PING_AFTER_IDLE_SECONDS = 10.0


def ping_idle_connections(engine: Engine, after_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Make ``engine``'s pool check a connection idle ``after_seconds`` or more before handing it out, and replace
    it if it is dead (the pool's ``DisconnectionError`` protocol: up to three fresh connections are tried)."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        returned = record.info.get("returned_at")  # none: a connection just opened
        if returned is None or time.monotonic() - returned < after_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()  # the check's SELECT began a transaction on the driver's connection
        except Exception as error:  # noqa: BLE001 - any failure means: do not use this connection
            raise DisconnectionError("a pooled connection was dead") from error


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the package's migrations and ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# The PostgreSQL advisory lock that serialises migrations (any fixed 64-bit number; this one spells "diemcau").
MIGRATION_LOCK_KEY = 0x646965_6D636175


def ensure_schema(engine: Engine) -> None:
    """Upgrade the database to the newest migration (idempotent). On PostgreSQL, processes that start together (N
    API replicas, workers) take turns: each holds an advisory lock for its migration transaction, so the first
    migrates and the others then find the schema current, instead of failing on each other's half-made tables."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")  # "heads": independent branches may coexist


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def engine_of(factory: sessionmaker[Session]) -> Engine:
    """The engine a factory from ``make_sessionmaker`` opens its sessions on (the one place that reads it back)."""
    engine = factory.kw.get("bind")
    if not isinstance(engine, Engine):
        raise TypeError("a session factory without an engine: build it with make_sessionmaker(engine)")
    return engine


def _begin_immediate(session: Session) -> None:
    """On SQLite, take the write lock when the transaction starts (``BEGIN IMMEDIATE``).

    The driver otherwise begins a transaction lazily at its first write. A transaction that read first and
    then writes after another writer committed cannot wait for the lock: SQLite fails it at once with
    "database is locked" (its snapshot is stale), whatever the busy timeout. Taking the lock up front makes
    every writer wait its turn (up to ``SQLITE_BUSY_TIMEOUT_MS``) instead; readers are not affected (WAL).
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll everything back on any error (on SQLite it holds the write
    lock from the start, so concurrent writers queue instead of failing)."""
    with factory() as session, session.begin():
        _begin_immediate(session)
        yield session
