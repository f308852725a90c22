"""Migrations: the newest revision creates exactly what the models describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import ensure_schema
from diemcau.adapters.db.schema import Base


def test_models_and_migrations_agree(session_factory: sessionmaker[Session]) -> None:
    """Would `alembic revision --autogenerate` find nothing to add after upgrading to head?"""
    engine = session_factory.kw["bind"]
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(session_factory: sessionmaker[Session]) -> None:
    """Can the schema be ensured twice (every start of the API and every `diemcau init` does so)?"""
    ensure_schema(session_factory.kw["bind"])
