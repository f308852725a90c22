"""Shared fixtures: a throwaway data directory, and the application database on SQLite and PostgreSQL.

PostgreSQL comes from ``scripts/ensure_postgres.sh`` (run by ``make test``), reachable at
``$DIEMCAU_TEST_POSTGRES_URL``. Without it the PostgreSQL cases are skipped locally, but ``make test``
sets ``DIEMCAU_REQUIRE_POSTGRES=1`` so a missing server fails CI instead of silently skipping. The job queue
on Redis follows the same rule (``DIEMCAU_REQUIRE_REDIS``; tests/queue_support.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker
from diemcau.settings import Settings, load_settings
from tests.data_dirs import CHEAP_ARGON2, data_dir_environ
from tests.queue_support import QUEUE_BACKENDS, clear_redis_queue, queue_on

# Argon2 at its cheapest for every test that reads the settings from the environment, and every process a test
# starts (hubs, CLI, workers): at production's cost, hashing would take most of the suite's CPU.
for _name, _value in CHEAP_ARGON2.items():
    os.environ.setdefault(_name, _value)

SYSTEM_USER_FILES = frozenset({"test_system_users.py", "test_isolation_hub.py", "test_clean_stop.py"})
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
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings on a fresh data directory; content folders in tmp too, never in the source tree. The job queue is
    SQLite's, or the one of the test's ``queue_backend`` parameter (``QUEUE_BACKENDS``, tests/queue_support.py)."""
    backend = request.getfixturevalue("queue_backend") if "queue_backend" in request.fixturenames else "sqlite"
    return load_settings(data_dir_environ(tmp_path, **queue_on(backend)))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A database of this test session's own on the PostgreSQL server (so parallel runs never collide)."""
    if not _postgres_available():
        yield None
        return
    name = f"diemcau_test_{os.getpid()}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    admin.dispose()
    drop_database(name)


def drop_database(name: str, attempts: int = 50) -> None:
    """Drop database ``name`` on the test server, ending its connections (``WITH (FORCE)``).

    An autovacuum worker that PostgreSQL started on a fresh database cannot be ended by the tests' role, which is
    no superuser ("must be a member of the role whose process is being terminated"): try again once it is gone (it
    lasts a fraction of a second)."""
    from sqlalchemy.exc import ProgrammingError

    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(attempts):
            try:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                return
            except ProgrammingError as error:
                if "pg_signal_backend" not in str(error) or attempt == attempts - 1:
                    raise
                time.sleep(0.1)
    finally:
        admin.dispose()


GRADEBOOKS = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'gradebook\\_%'"


def _reset_postgres(url: str) -> None:
    """Empty this session's database. Each course's gradebook (a schema of nbgrader's tables;
    adapters/nbgrader/course_dir.py) is kept but emptied, as good as new: creating one costs ~0.23 s, and most
    quiz tests make the same course's. One left half-made (no ``alembic_version``, written last) is dropped.
    Emptied row by row, children first: ``TRUNCATE`` makes new files for every table, ~0.25 s per gradebook."""
    from nbgrader.api import Base as gradebook_tables

    engine = create_engine(url)
    with engine.begin() as connection:
        kept = []
        for schema in connection.scalars(text(GRADEBOOKS)).all():
            if connection.scalar(text("SELECT to_regclass(:name)"), {"name": f'"{schema}".alembic_version'}):
                kept.append(schema)
            else:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        tables = reversed(gradebook_tables.metadata.sorted_tables)
        emptying = [f'DELETE FROM "{schema}"."{table.name}"' for table in tables for schema in kept]
        if emptying:
            connection.exec_driver_sql("; ".join(emptying))
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent"))
    engine.dispose()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _empty_database(request: pytest.FixtureRequest, folder: Path) -> str:
    """An empty database URL on the backend ``request.param``: a SQLite file in ``folder``, or this session's own
    PostgreSQL database, emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{folder / 'test.sqlite'}"
    url = request.getfixturevalue("postgres_url")
    if url is None:
        if os.environ.get("DIEMCAU_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but not reachable at {POSTGRES_URL}; run scripts/ensure_postgres.sh")
        pytest.skip("PostgreSQL not running (make test starts it)")
    _reset_postgres(url)
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL on each backend (the PostgreSQL one is this session's own database)."""
    return _empty_database(request, tmp_path)


@pytest.fixture(params=QUEUE_BACKENDS)
def queue_environ(request: pytest.FixtureRequest) -> dict[str, str]:
    """The ``DIEMCAU_JOBS__*`` environment of an empty job queue on each backend (tests/queue_support.py)."""
    return queue_on(request.param)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Delete this test process's queue on the test Redis (nothing to do when it never ran there)."""
    clear_redis_queue()


@pytest.fixture
def session_factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on a freshly migrated database, on both backends."""
    engine = make_engine(db_url)
    ensure_schema(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def db_url_without_gradebooks(db_url: str) -> str:
    """``db_url`` without the courses' gradebooks too (``db_url`` keeps them, emptied on PostgreSQL): for a test
    about which gradebooks there are."""
    if db_url.startswith("postgresql"):
        engine = create_engine(db_url)
        with engine.begin() as connection:
            for schema in connection.scalars(text(GRADEBOOKS)).all():
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
    return db_url


@pytest.fixture(scope="module", params=BACKENDS)
def module_session_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sessionmaker[Session]]:
    """A session factory on a freshly migrated database that a module's tests share, on both backends: for a
    module whose tests read what one fixture seeded (seeding PostgreSQL costs about a second) and write nothing
    another test reads. Its PostgreSQL database is the session's own, which ``db_url`` empties: a module using
    this fixture uses no ``db_url`` (nor ``session_factory``)."""
    engine = make_engine(_empty_database(request, tmp_path_factory.mktemp("db")))
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
def hub():  # type: ignore[no-untyped-def]
    """A real JupyterHub + proxy + API service on the demo province (shared by the whole session)."""
    from diemcau.demo.seed import seed_demo
    from tests.hubserver import start_hub

    yield from start_hub(seed_demo)


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``system_users`` every test that starts a hub or makes system users. ``make test`` runs the others on
    two processes, then these alone, in one: hubs spawn staff servers as the same ``jupyter-<card>`` accounts
    (stopping one ends all of that account's processes), and a spawn slowed by a parallel test's load trips the
    hub's own timeouts."""
    for item in items:
        if item.get_closest_marker("hub") or "hub" in item.fixturenames or item.path.name in SYSTEM_USER_FILES:
            item.add_marker(pytest.mark.system_users)


def pytest_xdist_make_scheduler(config: pytest.Config, log):  # type: ignore[no-untyped-def]
    """Under ``-n`` (``make test``'s first phase), run every module that shares a ``scope="module"`` fixture on one
    process, so what that fixture starts (the cluster of network namespaces, ~35 s; ``init --demo``, ~30 s; nginx
    and its replicas) is set up once, not once per process; every other test is scheduled on its own, as xdist's
    ``load`` does. (xdist's own ``loadgroup`` does not keep a group together under pytest 9.) Measured in
    docs/benchmarks.md, "Test suite" (`ci22`, `ci23`)."""
    from xdist.scheduler import LoadScopeScheduling

    shares: dict[str, bool] = {}

    def shares_fixtures(module: str) -> bool:
        if module not in shares:
            path = config.rootpath / module
            shares[module] = path.is_file() and 'scope="module"' in path.read_text("utf-8")
        return shares[module]

    class ModulesThatShareFixtures(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if shares_fixtures(module) else nodeid

    return ModulesThatShareFixtures(config, log)
