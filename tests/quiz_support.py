"""Helpers for quiz tests: specs on disk, settings sharing the test database, a real huey consumer, seeds."""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import quizzes as store
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import MemberRow
from diemcau.adapters.db.models_quiz import QuizSubmissionRow
from diemcau.core.quiz_form import public_form
from diemcau.core.quiz_spec import QuizSpec
from diemcau.jobs import quiz_tasks
from diemcau.jobs.context import install
from diemcau.settings import DatabaseSettings, Settings

form_of_spec = public_form

COURSE = "nq-cb-a1"  # tests/seed.py: audience cb-a1 (member a1001, secretary a1002)

# 4 autograded questions worth 1 + 2 + 1 + 1 points, and a 5-point essay.
QUIZ_YAML = """\
title: Kiểm tra chuyên đề chi bộ
pass_mark: 50
attempts: {attempts}
counts: {counts}
opens: {opens}
closes: {closes}
late: {late}
questions:
  - id: q1
    type: single
    text: Câu một?
    options: [Sai, Đúng, Cũng sai]
    answer: B
  - id: q2
    type: multiple
    text: Câu hai?
    options: [Đúng, Sai, Đúng nữa]
    answer: [A, C]
    points: 2
  - id: q3
    type: true_false
    text: Câu ba đúng không?
    answer: true
  - id: q4
    type: short
    text: Thủ đô?
    answer: [Hà Nội]
{essay}"""
ESSAY = """\
  - id: bai_thu_hoach
    type: essay
    text: Viết bài thu hoạch.
    points: 5
"""
ALL_RIGHT = {"q1": "B", "q2": ["A", "C"], "q3": "true", "q4": "ha noi"}


def quiz_yaml(
    attempts: int = 2,
    counts: str = "last",
    opens: str = "2020-01-01",
    closes: str = "2099-12-31",
    late: str = "accept",
    essay: bool = True,
) -> str:
    """A spec for the seeded cell course, with the rules given."""
    return QUIZ_YAML.format(
        attempts=attempts, counts=counts, opens=opens, closes=closes, late=late, essay=ESSAY if essay else ""
    )


def write_spec(settings: Settings, text: str, quiz_id: str = "kt", course_id: str = COURSE) -> Path:
    """Write a spec where ``diemcau quiz release`` looks for it."""
    path = settings.courses_dir / course_id / "quizzes" / f"{quiz_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sharing_database(settings: Settings, factory: sessionmaker[Session]) -> Settings:
    """``settings`` whose database is the test's (so workers and the API see the same rows)."""
    url = factory.kw["bind"].url.render_as_string(hide_password=False)
    return settings.model_copy(update={"database": DatabaseSettings(url=url)})


@contextmanager
def running_consumer(settings: Settings, workers: int = 2) -> Iterator[object]:
    """A real huey consumer (threads) on the settings' queue, consuming quiz tasks, stopped afterwards."""
    install(settings)  # every task module's worker hooks run in this consumer: give them our data
    huey = quiz_tasks.ensure_queue(settings)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=False, initial_delay=0.02)
    consumer.start()
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def wait_graded(factory: sessionmaker[Session], submission_id: str, timeout: float = 60) -> store.SubmissionRecord:
    """The submission once it is no longer waiting to be graded (fails after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = store.load_submission(factory, submission_id)
        if record is not None and record.status != store.RECEIVED:
            return record
        time.sleep(0.05)
    raise AssertionError(f"submission {submission_id} not graded after {timeout}s")


AUTHZ_QUIZ = "kt"
AUTHZ_SUBMISSION = "sub-a1001"


def seed_quiz_records(factory: sessionmaker[Session], spec: QuizSpec) -> None:
    """A released quiz of the cell course and one graded attempt of member a1001, straight into the tables
    (the authorization matrix needs rows, not nbgrader)."""
    store.save_release(factory, public_form(spec))
    with transaction(factory) as session:
        member = session.query(MemberRow).filter(MemberRow.card_number == "A1001").one()
        session.add(
            QuizSubmissionRow(
                id=AUTHZ_SUBMISSION,
                course_id=spec.course_id,
                quiz_id=spec.quiz_id,
                member_id=member.id,
                client_id="seeded-attempt-1",
                attempt=1,
                answers={"q1": "B"},
                submitted_at=dt.datetime(2026, 3, 1),
                late=False,
                status=store.GRADED,
                score=1.0,
                max_score=spec.total_points,
                grading_error="",
                feedback=[{"question": "q1", "score": 1.0, "max": 1.0, "pending": False}],
            )
        )


def seed_authz_quiz(factory: sessionmaker[Session]) -> None:
    """The authorization matrix's quiz: ``kt`` of the cell course, three attempts, one graded attempt of a1001."""
    from diemcau.adapters.quiz_files import parse_quiz_text

    seed_quiz_records(factory, parse_quiz_text(quiz_yaml(attempts=3), "kt.yaml", COURSE, AUTHZ_QUIZ))
