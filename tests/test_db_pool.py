"""The PostgreSQL pool checks a connection before use only when it sat idle (``engine.ping_idle_connections``)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from diemcau.adapters.db.engine import make_engine, ping_idle_connections

# The check is PostgreSQL's (SQLite has no server to lose): ``db_url`` on that backend only.
pytestmark = pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


@pytest.fixture
def url(db_url: str) -> str:
    return db_url


def _backend_pid(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def _terminate(url: str, pid: int) -> None:
    admin = create_engine(url)
    with admin.begin() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_is_a_connection_that_died_while_idle_replaced_before_anyone_uses_it(url: str) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    ping_idle_connections(engine, after_seconds=0.0)
    dead = _backend_pid(engine)
    _terminate(url, dead)
    assert _backend_pid(engine) != dead  # no error: the check found it dead and the pool opened another
    engine.dispose()


def test_is_a_connection_used_a_moment_ago_handed_out_without_a_check(url: str) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    ping_idle_connections(engine, after_seconds=3600.0)
    _terminate(url, _backend_pid(engine))
    with pytest.raises(OperationalError):  # not checked: its first statement meets the closed connection
        _backend_pid(engine)
    assert _backend_pid(engine) > 0  # and the pool, told it was a disconnection, opens a fresh one
    engine.dispose()


def test_does_the_application_engine_check_idle_connections(url: str) -> None:
    engine = make_engine(url)
    assert not engine.pool._pre_ping  # not every checkout: a round trip per transaction
    dead = _backend_pid(engine)
    _terminate(url, dead)
    for record in list(engine.pool._pool.queue):  # the pooled connection, returned long enough ago
        record.info["returned_at"] -= 3600
    assert _backend_pid(engine) != dead
    engine.dispose()
