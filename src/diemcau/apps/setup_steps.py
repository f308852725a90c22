"""Idempotent set-up steps for a data directory, shared by ``diemcau init`` and the hub launcher."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.course_files import load_courses
from diemcau.adapters.db.courses import upsert_course
from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker, transaction
from diemcau.adapters.system_users import make_private
from diemcau.settings import SETTINGS_FILE_NAME, Settings

SETTINGS_TEMPLATE = """\
# Điểm Cầu settings. Every key is optional; see README.md ("Settings") for the full list.
# Environment variables override this file: DIEMCAU_<SECTION>__<KEY>, e.g. DIEMCAU_HUB__PORT=8001.

[hub]
# ip = "127.0.0.1"
# port = 8000

[database]
# url = "postgresql+psycopg://diemcau:secret@127.0.0.1:5432/diemcau"
"""


def ensure_data_dir(settings: Settings) -> None:
    """Create the data directory (private to this user: staff servers run as other users, and reach data only
    through the API) and its state folders, and a commented settings file if none exists."""
    make_private(settings.home)
    for folder in (settings.hub_dir, settings.media_dir, settings.nbgrader_dir, settings.jobs_dir):
        folder.mkdir(parents=True, exist_ok=True)
    settings_file = settings.home / SETTINGS_FILE_NAME
    if not settings_file.exists():
        settings_file.write_text(SETTINGS_TEMPLATE, encoding="utf-8")


def ensure_api_token(settings: Settings) -> Path | None:
    """With the API as an external service (``hub.api_url``), the hub token its replicas share: made once (0600,
    64 hex digits) at ``<data>/hub/api_service_token``; the operator gives it to each replica as
    ``JUPYTERHUB_API_TOKEN``. ``None`` on one machine (the hub makes the managed service's token itself)."""
    from diemcau.apps.hub.config import api_token_path

    if not settings.hub.api_url:
        return None
    path = api_token_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


def ensure_database(settings: Settings) -> sessionmaker[Session]:
    """Migrate the application database to the newest schema; returns a session factory."""
    engine = make_engine(settings.database_url)
    ensure_schema(engine)
    return make_sessionmaker(engine)


def ensure_courses(settings: Settings, factory: sessionmaker[Session]) -> int:
    """Load every course file of the courses folder into the database, all or nothing; returns the count."""
    if not settings.courses_dir.exists():
        return 0
    courses = load_courses(settings.courses_dir)
    with transaction(factory) as session:
        for course in courses:
            upsert_course(session, course)
    return len(courses)
