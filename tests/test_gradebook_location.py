"""Where a course's nbgrader gradebook lives: a SQLite file in its course folder, or a schema of its own in the
application's PostgreSQL database (``adapters/nbgrader/course_dir.gradebook_url``, the one rule)."""

from __future__ import annotations

import datetime as dt
import re

from nbgrader.api import Gradebook
from sqlalchemy import create_engine, make_url, text

from diemcau.adapters.nbgrader.course_dir import course_key, course_root, gradebook_schema, gradebook_url
from diemcau.adapters.nbgrader.grader import QuizGrader, QuizSubmission
from diemcau.adapters.nbgrader.release import release_quiz
from diemcau.adapters.quiz_files import parse_quiz_text
from diemcau.settings import DatabaseSettings, QuizSettings, Settings
from tests.quiz_support import ALL_RIGHT, COURSE, quiz_yaml

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
HOSTILE = [
    "a-b",
    "a_b",
    "A_B",
    "nq-cb-a1",
    "nq_cb_a1",
    "x" * 40,
    "x" * 41,
    "x" * 300,
    'a"; DROP SCHEMA public CASCADE; --',
    "a b",
    "a\x00b",
    "../../etc",
    "bồi-dưỡng",
    "_a",
    "",
    "-csearch_path=public",
]


def test_course_keys_are_safe_identifiers_and_never_shared() -> None:
    """Is every course's schema a plain SQL identifier within PostgreSQL's 63 characters, different for every
    different id (``a-b`` and ``a_b`` included: they once shared one gradebook), and readable for plain ids?"""
    schemas = [gradebook_schema(course) for course in HOSTILE]
    assert all(re.fullmatch(r"gradebook_[a-z0-9_]{1,53}", schema) for schema in schemas), schemas
    assert len(set(schemas)) == len(HOSTILE)
    assert gradebook_schema("nq_cb_a1") == "gradebook_nq_cb_a1" and course_key("x" * 40) == "x" * 40
    assert gradebook_schema("nq-cb-a1").startswith("gradebook__nq_cb_a1_")
    assert gradebook_schema("a-b") == gradebook_schema("a-b")  # a pure function of the id


def test_a_configured_gradebook_server_keeps_courses_apart(settings: Settings) -> None:
    """With ``quiz.gradebook_url``, do two courses whose ids differ only by ``-``/``_`` get two databases?"""
    configured = settings.model_copy(
        update={"quiz": QuizSettings(gradebook_url="postgresql+psycopg://u@db/gb_{course}")}
    )
    assert gradebook_url(configured, "a-b") != gradebook_url(configured, "a_b")
    assert gradebook_url(configured, "a_b") == "postgresql+psycopg://u@db/gb_a_b"


def _released(settings: Settings, course: str) -> None:
    release_quiz(settings, parse_quiz_text(quiz_yaml(), "kt.yaml", course, "kt"))


def test_each_course_has_its_own_gradebook_on_the_applications_database(
    settings: Settings, db_url_without_gradebooks: str
) -> None:
    """SQLite: a ``gradebook.db`` in the course folder. PostgreSQL: no file, but a schema per course in the
    application's database, created once (a second release finds it), read by nbgrader's own ``Gradebook`` through
    the same URL, and the ``nbgrader_config.py`` staff run nbgrader with names it without the password?"""
    db_url = db_url_without_gradebooks
    app = settings.model_copy(update={"database": DatabaseSettings(url=db_url)})
    other = "nq-other"
    for course in (COURSE, other, COURSE):
        _released(app, course)
    grader = QuizGrader(app, COURSE)
    try:
        assert grader.grade(QuizSubmission("kt", "a1001", ALL_RIGHT, NOW)).score == 5
    finally:
        grader.close()
    with Gradebook(gradebook_url(app, COURSE), COURSE) as gradebook:
        assert gradebook.find_submission("kt", "a1001").score == 5
    with Gradebook(gradebook_url(app, other), other) as gradebook:
        assert [s.student.id for s in gradebook.find_assignment("kt").submissions] == []
    config = (course_root(app, COURSE) / "nbgrader_config.py").read_text(encoding="utf-8")
    database_file = course_root(app, COURSE) / "gradebook.db"
    if db_url.startswith("sqlite"):
        assert database_file.is_file() and "gradebook.db" in config
        return
    assert not database_file.exists()
    password = make_url(db_url).password or "-"
    assert gradebook_schema(COURSE) in config and f":{password}@" not in config
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            query = "SELECT table_schema, count(*) FROM information_schema.tables WHERE table_name = 'assignment'"
            tables = connection.execute(text(query + " GROUP BY table_schema")).all()
            public = connection.scalar(text("SELECT to_regclass('public.assignment')"))
    finally:
        engine.dispose()
    assert dict(tables) == {gradebook_schema(COURSE): 1, gradebook_schema(other): 1}
    assert public is None  # nbgrader's tables never land among the application's
