"""The settings and database the tasks of this process use: below every task module, so they all import it
directly (``jobs.ingest``, ``jobs.transcribe_task``, ``jobs.material_task``, ``search.tasks``) without a cycle."""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import make_engine, make_sessionmaker
from diemcau.settings import Settings, load_settings

_settings: list[Settings] = []


def use_settings(settings: Settings) -> None:
    """Make tasks run in this process use ``settings`` (the CLI and tests; a worker reads the environment)."""
    _settings[:] = [settings]


def current_settings() -> Settings:
    """The settings tasks in this process use."""
    if not _settings:
        _settings.append(load_settings())
    return _settings[0]


@cache
def factory_for(url: str) -> sessionmaker[Session]:
    """One session factory per database URL and process."""
    return make_sessionmaker(make_engine(url))
