"""One nbgrader course directory per Điểm Cầu course, under ``<data>/nbgrader/<course>/``.

nbgrader's formgrader serves one course; we keep many courses in one deployment by giving each its own
course directory and its own gradebook database (nbgrader's ``assignment.name`` is unique across a whole
gradebook, so two courses cannot share one). The gradebook is a SQLite file in the course directory by default
(WAL, so parallel graders do not block readers), or a PostgreSQL database per course when
``quiz.gradebook_url`` says so; ``ensure_gradebook`` creates it.

No exchange directory exists: the API service is the exchange (see ``docs/quizzes.md``).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from alembic.script import ScriptDirectory
from nbgrader import api as nbgrader_api
from nbgrader.coursedir import CourseDirectory
from sqlalchemy import create_engine, inspect, make_url, text
from traitlets.config import Config

from diemcau.settings import Settings

# What a released answer cell holds until the member answers (nbgrader replaces the solution with it).
CODE_STUB = "answer = None"
TEXT_STUB = ""
NBGRADER_CONFIG = """\
# Written by Điểm Cầu for staff running nbgrader (formgrader, the CLI) in this course directory.
c = get_config()  # noqa
c.CourseDirectory.course_id = {course!r}
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = {db_url!r}
c.ClearSolutions.code_stub = {{"python": {code_stub!r}}}
c.ClearSolutions.text_stub = {text_stub!r}
"""


def course_root(settings: Settings, course_id: str) -> Path:
    """The nbgrader course directory of ``course_id``."""
    return settings.nbgrader_dir / course_id


def gradebook_url(settings: Settings, course_id: str) -> str:
    """The gradebook database URL of ``course_id`` (SQLite in the course directory unless configured)."""
    if settings.quiz.gradebook_url:
        return settings.quiz.gradebook_url.replace("{course}", re.sub(r"[^a-z0-9_]", "_", course_id))
    return f"sqlite:///{course_root(settings, course_id) / 'gradebook.db'}"


def nbgrader_config(settings: Settings, course_id: str) -> Config:
    """The traitlets config every nbgrader converter of this course runs with."""
    config = Config()
    config.CourseDirectory.course_id = course_id
    config.CourseDirectory.root = str(course_root(settings, course_id))
    config.CourseDirectory.db_url = gradebook_url(settings, course_id)
    config.ClearSolutions.code_stub = {"python": CODE_STUB}
    config.ClearSolutions.text_stub = TEXT_STUB
    return config


def course_directory(settings: Settings, course_id: str) -> CourseDirectory:
    """nbgrader's view of the course directory."""
    return CourseDirectory(config=nbgrader_config(settings, course_id))


def _ensure_postgres_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            ).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def _create_gradebook_tables(url: str) -> None:
    # What nbgrader's Gradebook does on first use, minus its `alembic heads` subprocess (which needs the
    # venv's bin/ on PATH): the tables, stamped with the head of nbgrader's own migrations.
    engine = create_engine(url)
    try:
        if inspect(engine).get_table_names():
            return
        nbgrader_api.Base.metadata.create_all(engine)
        head = ScriptDirectory(str(Path(nbgrader_api.__file__).with_name("alembic"))).get_current_head()
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": head})
    finally:
        engine.dispose()


def ensure_gradebook(url: str) -> None:
    """Make the gradebook database exist with nbgrader's tables (SQLite in WAL mode; PostgreSQL created)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA journal_mode=WAL")  # persists in the file
    elif url.startswith("postgresql"):
        _ensure_postgres_database(url)
    _create_gradebook_tables(url)


def ensure_course_dir(settings: Settings, course_id: str) -> Path:
    """Create the course directory, its gradebook and its ``nbgrader_config.py`` (idempotent)."""
    root = course_root(settings, course_id)
    for step in ("source", "release", "submitted", "autograded", "feedback"):
        (root / step).mkdir(parents=True, exist_ok=True)
    url = gradebook_url(settings, course_id)
    ensure_gradebook(url)
    config_text = NBGRADER_CONFIG.format(
        course=course_id, root=str(root), db_url=url, code_stub=CODE_STUB, text_stub=TEXT_STUB
    )
    config_path = root / "nbgrader_config.py"
    if not config_path.exists() or config_path.read_text(encoding="utf-8") != config_text:
        config_path.write_text(config_text, encoding="utf-8")
    return root
