"""One nbgrader course directory per Điểm Cầu course, under ``<data>/nbgrader/<course>/``.

nbgrader's formgrader serves one course; we keep many courses in one deployment by giving each its own
course directory and its own gradebook (nbgrader's ``assignment.name`` is unique across a whole gradebook, so
two courses cannot share one). Where the gradebook lives is decided by ``gradebook_url`` alone, and every reader
(the grader, release, results, the ``nbgrader_config.py`` staff run nbgrader's CLI and formgrader with) uses it:

- ``quiz.gradebook_url`` set: one database per course on that server (``{course}`` replaced);
- else, the application's database on PostgreSQL: one *schema* per course in it, ``gradebook_schema(course)``,
  selected through the URL's ``options=-csearch_path=...`` (nbgrader's table names are fixed; each course's
  tables live in its own schema, so they never clash);
- else a SQLite file in the course directory (WAL, so parallel graders do not block readers).

``ensure_gradebook`` creates the database or schema (idempotent, safe when two hosts race).

No exchange directory exists: the API service is the exchange (see ``docs/quizzes.md``).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

from alembic.script import ScriptDirectory
from nbgrader import api as nbgrader_api
from nbgrader.coursedir import CourseDirectory
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.exc import DBAPIError
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


_PLAIN_KEY = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")
SCHEMA_PREFIX = "gradebook_"


def course_key(course_id: str) -> str:
    """A name part for ``course_id`` that is a safe SQL identifier and distinct for distinct ids.

    Lower-case letters, digits and ``_`` (at most 40) stand for themselves; anything else (``-``, capitals,
    quotes, non-ASCII, length) becomes ``_`` + a readable prefix + ``_`` + 16 hex digits of its sha256. A plain
    key never starts with ``_``, so the two kinds never meet; ``a-b`` and ``a_b`` stay apart.
    """
    if _PLAIN_KEY.match(course_id):
        return course_id
    readable = re.sub(r"[^a-z0-9_]", "_", course_id.lower())[:20]
    return f"_{readable}_{hashlib.sha256(course_id.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


def gradebook_schema(course_id: str) -> str:
    """The PostgreSQL schema of ``course_id``'s gradebook: ``gradebook_<course_key>`` (at most 48 characters)."""
    return SCHEMA_PREFIX + course_key(course_id)


def gradebook_url(settings: Settings, course_id: str) -> str:
    """The gradebook URL of ``course_id``: the one rule of where a course's gradebook lives (module doc)."""
    if settings.quiz.gradebook_url:
        return settings.quiz.gradebook_url.replace("{course}", course_key(course_id))
    app = make_url(settings.database_url)
    if app.get_backend_name() == "postgresql":
        options = " ".join(
            filter(None, [str(app.query.get("options", "")), f"-csearch_path={gradebook_schema(course_id)}"])
        )
        return app.update_query_dict({"options": options}).render_as_string(hide_password=False)
    return f"sqlite:///{course_root(settings, course_id) / 'gradebook.db'}"


def _search_path_schema(url: str) -> str | None:
    """The schema a gradebook URL selects with ``options=-csearch_path=...`` (``gradebook_url``), if any."""
    match = re.search(r"-csearch_path=(\w+)", str(make_url(url).query.get("options", "")))
    return match.group(1) if match else None


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
    target = make_url(url).difference_update_query(["options"])
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


def _ensure_postgres_schema(url: str, schema: str) -> None:
    if not re.fullmatch(r"[a-z0-9_]{1,63}", schema):  # made by gradebook_schema; never quoted user text
        raise ValueError(f"not a gradebook schema name: {schema!r}")
    engine = create_engine(make_url(url).difference_update_query(["options"]), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            try:
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            except DBAPIError:  # another host created it between the check and the insert (a unique violation)
                exists = connection.execute(
                    text("SELECT 1 FROM pg_namespace WHERE nspname = :name"), {"name": schema}
                ).first()
                if not exists:
                    raise
    finally:
        engine.dispose()


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
        schema = _search_path_schema(url)
        if schema:  # a schema in the application's database, which exists
            _ensure_postgres_schema(url, schema)
        else:
            _ensure_postgres_database(url)
    _create_gradebook_tables(url)


def _without_password(url: str) -> str:
    """``url`` minus its password: the file lies on the shared volume, and the application's database password
    opens every member's data; staff running nbgrader give theirs through ``PGPASSWORD`` or ``~/.pgpass``."""
    parsed = make_url(url)
    return parsed._replace(password=None).render_as_string(hide_password=False) if parsed.password else url


def ensure_course_dir(settings: Settings, course_id: str) -> Path:
    """Create the course directory, its gradebook and its ``nbgrader_config.py`` (idempotent)."""
    root = course_root(settings, course_id)
    for step in ("source", "release", "submitted", "autograded", "feedback"):
        (root / step).mkdir(parents=True, exist_ok=True)
    url = gradebook_url(settings, course_id)
    ensure_gradebook(url)
    config_text = NBGRADER_CONFIG.format(
        course=course_id, root=str(root), db_url=_without_password(url), code_stub=CODE_STUB, text_stub=TEXT_STUB
    )
    config_path = root / "nbgrader_config.py"
    if not config_path.exists() or config_path.read_text(encoding="utf-8") != config_text:
        config_path.write_text(config_text, encoding="utf-8")
    return root
