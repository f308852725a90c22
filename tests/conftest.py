"""Shared fixtures: a throwaway data directory, and the application database on SQLite and PostgreSQL.

PostgreSQL comes from ``scripts/ensure_postgres.sh`` (run by ``make test``), reachable at
``$DIEMCAU_TEST_POSTGRES_URL``. Without it the PostgreSQL cases are skipped locally, but ``make test``
sets ``DIEMCAU_REQUIRE_POSTGRES=1`` so a missing server fails CI instead of silently skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker
from diemcau.settings import Settings, load_settings

POSTGRES_URL = os.environ.get(
    "DIEMCAU_TEST_POSTGRES_URL", "postgresql+psycopg://diemcau:diemcau@127.0.0.1:5432/diemcau_test"
)


def _postgres_available() -> bool:
    try:
        with create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2}).connect():
            return True
    except Exception:
        return False


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh data directory; content folders in tmp too, never in the source tree."""
    environ = {
        "DIEMCAU_HOME": str(tmp_path / "var"),
        "DIEMCAU_CONTENT__COURSES_DIR": str(tmp_path / "courses"),
        "DIEMCAU_CONTENT__TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
    }
    return load_settings(environ)


def _reset_postgres() -> None:
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    if not _postgres_available():
        if os.environ.get("DIEMCAU_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but not reachable at {POSTGRES_URL}; run scripts/ensure_postgres.sh")
        pytest.skip("PostgreSQL not running (make test starts it)")
    _reset_postgres()
    return POSTGRES_URL


@pytest.fixture
def session_factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on a freshly migrated database, on both backends."""
    engine = make_engine(db_url)
    ensure_schema(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def sqlite_factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A session factory on a freshly migrated SQLite database only (for tests that are not about the backend)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'app.sqlite'}")
    ensure_schema(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real JupyterHub + proxy + API service on the demo province (shared by the whole session)."""
    from diemcau.demo.seed import seed_demo
    from tests.hubserver import start_hub

    yield from start_hub(tmp_path_factory.mktemp("hub"), seed_demo)
