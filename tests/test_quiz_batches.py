"""Batch grading: many submissions of a quiz in one gradebook transaction, by workers that never grade the same
rows at once and lose nothing when one dies (real nbgrader, real huey; the database on SQLite and PostgreSQL).

The job queue follows the database as deployed (``queue_of_stack``): SQLite beside SQLite, Redis beside
PostgreSQL, so every test here also runs on the Redis queue without running twice more. On Redis a worker pops
a task off the list as it takes it: ``test_a_worker_killed_mid_batch_loses_no_grade`` and the two-host tests
show that a worker ``kill -9``-ed mid-batch loses no grade there either (the start-up and periodic sweeps queue
the quiz again) and that each submission is graded exactly once."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import nbformat
import pytest
from nbgrader.api import Gradebook
from sqlalchemy import func, select, update

from diemcau.adapters.db import quizzes as store
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.job_leases import utcnow
from diemcau.adapters.db.models import JobRow, MemberRow, OrgUnitRow
from diemcau.adapters.db.models_quiz import QuizSubmissionRow
from diemcau.adapters.db.quiz_batches import waiting_quizzes
from diemcau.adapters.nbgrader.course_dir import course_root, gradebook_url
from diemcau.adapters.nbgrader.grader import QuizGrader, QuizSubmission
from diemcau.adapters.nbgrader.release import notebook_path
from diemcau.jobs import quiz_locks, quiz_tasks
from diemcau.jobs.context import current, install
from diemcau.quizzes.publish import release
from tests.quiz_support import ALL_RIGHT, COURSE, quiz_yaml, running_consumer, sharing_database, write_spec
from tests.queue_support import on_queue, queue_environ_of, queue_of_stack
from tests.seed import seed_small_province

SOME_WRONG = {"q1": "A", "q2": ["A"], "q3": "true", "q4": "Hà Nôi", "bai_thu_hoach": "Tôi sẽ học tập."}
NOW = dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC)


def _answers(n: int) -> dict:
    return [ALL_RIGHT, SOME_WRONG, {}][n % 3]


def _score(n: int) -> float:
    return [5.0, 1.0, 0.0][n % 3]


@pytest.fixture
def quiz_db(settings, session_factory, db_url):  # type: ignore[no-untyped-def]
    """The seeded province with ``members`` extra members in cell cb-a1 and the test quiz released; the queue
    beside the database (Redis beside PostgreSQL)."""

    def make(members: int, attempts: int = 1):  # type: ignore[no-untyped-def]
        shared = on_queue(sharing_database(settings, session_factory), queue_of_stack(db_url))
        seed_small_province(session_factory)
        with transaction(session_factory) as session:
            cell = session.scalar(select(OrgUnitRow).where(OrgUnitRow.code == "cb-a1"))
            session.add_all(
                MemberRow(card_number=f"C{n:05d}", full_name=f"Đảng viên {n}", org_unit_id=cell.id)
                for n in range(members)
            )
        write_spec(shared, quiz_yaml(attempts=attempts))
        release(shared, session_factory, COURSE, "kt")
        install(shared)
        quiz_tasks.ensure_queue(shared).flush()
        return shared, session_factory

    return make


def _store_burst(factory, count: int, first: int = 0) -> list[str]:  # type: ignore[no-untyped-def]
    """What the API does first for ``count`` members: store each submission durably."""
    form = store.load_form(factory, COURSE, "kt")
    return [
        store.store_submission(factory, f"c{n:05d}", form, f"burst-{n:08d}", _answers(n), NOW)[0].id
        for n in range(first, first + count)
    ]


def _gradebook_scores(settings) -> dict[str, float]:  # type: ignore[no-untyped-def]
    with Gradebook(gradebook_url(settings, COURSE), COURSE) as gradebook:
        return {s.student.id: s.score for s in gradebook.find_assignment("kt").submissions}


def _grades(settings, student: str) -> dict:  # type: ignore[no-untyped-def]
    with Gradebook(gradebook_url(settings, COURSE), COURSE) as gradebook:
        submission = gradebook.find_submission("kt", student)
        grades = {
            g.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
            for nb in submission.notebooks
            for g in nb.grades
        }
        comments = {c.name: c.auto_comment for nb in submission.notebooks for c in nb.comments}
        return {
            "grades": grades,
            "comments": comments,
            "score": submission.score,
            "late": submission.total_seconds_late,
        }


def test_a_batch_leaves_the_gradebook_as_grading_one_at_a_time(quiz_db) -> None:  # type: ignore[no-untyped-def]
    """Does one gradebook transaction for many submissions leave exactly the rows that grading each alone does
    (and that nbgrader's own autograde does: tests/test_quiz_grading.py)?"""
    settings, _factory = quiz_db(0)
    grader = QuizGrader(settings, COURSE)
    answers = [ALL_RIGHT, SOME_WRONG, {}, {"q1": "B"}]
    singles = [grader.grade(QuizSubmission("kt", f"one{n}", a, NOW)) for n, a in enumerate(answers)]
    batch = grader.grade_many([QuizSubmission("kt", f"many{n}", a, NOW) for n, a in enumerate(answers)])
    assert [(r.score, r.questions) for r in batch] == [(r.score, r.questions) for r in singles]
    for n in range(len(answers)):
        assert _grades(settings, f"many{n}") == _grades(settings, f"one{n}")


def test_notebooks_are_written_as_json_dumps_writes_them(quiz_db) -> None:  # type: ignore[no-untyped-def]
    """Are the submitted/ and autograded/ notebooks, written from cached cell JSON, exactly what ``json.dumps``
    writes for them, with the member's answers, the hidden tests restored and the outputs of grading?"""
    settings, _factory = quiz_db(0)
    QuizGrader(settings, COURSE).grade_many(
        [QuizSubmission("kt", f"nb{n}", a, NOW) for n, a in enumerate([ALL_RIGHT, SOME_WRONG])]
    )
    root = course_root(settings, COURSE)
    for step in ("submitted", "autograded"):
        text = notebook_path(root, step, "kt", "nb1").read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), ensure_ascii=False)
        nbformat.validate(nbformat.reads(text, as_version=4))
        sources = "".join(cell["source"] for cell in json.loads(text)["cells"])
        assert "answer = 'A'" in sources and "Tôi sẽ học tập." in sources
        assert ("BEGIN HIDDEN TESTS" in sources) == (step == "autograded")


def test_two_attempts_of_one_member_in_a_batch(quiz_db) -> None:  # type: ignore[no-untyped-def]
    """With two attempts of a member in one batch, is each graded, and the later one written last?"""
    settings, _factory = quiz_db(0)
    grader = QuizGrader(settings, COURSE)
    later = NOW + dt.timedelta(minutes=5)
    first, second = grader.grade_many(
        [QuizSubmission("kt", "a1001", ALL_RIGHT, NOW), QuizSubmission("kt", "a1001", SOME_WRONG, later)]
    )
    assert (first.score, second.score) == (5.0, 1.0)
    assert grader.held_timestamp("kt", "a1001") == later and _gradebook_scores(settings) == {"a1001": 1.0}


def test_a_refused_submission_does_not_sink_its_batch(quiz_db) -> None:  # type: ignore[no-untyped-def]
    """Is a submission that cannot be graded marked failed, with its reason, while the rest of its batch is
    graded?"""
    settings, factory = quiz_db(3)
    ids = _store_burst(factory, 3)
    with transaction(factory) as session:  # an answer no form accepts (the API refuses it; a bad row must not block)
        session.get(QuizSubmissionRow, ids[1]).answers = {"q1": 7}
    quiz_tasks.grade_quiz.call_local(COURSE, "kt")
    records = [store.load_submission(factory, i) for i in ids]
    assert [r.status for r in records] == [store.GRADED, store.FAILED, store.GRADED]
    assert "ValueError" in records[1].grading_error and records[0].score == 5.0 and records[2].score == 0.0


def test_a_burst_queues_one_task_and_is_graded_once_by_two_workers(quiz_db) -> None:  # type: ignore[no-untyped-def]
    """Do 120 submissions to one quiz queue a single grading task, and are all graded with the gradebook holding
    each member's one submission?"""
    settings, factory = quiz_db(120)
    queue = quiz_tasks.ensure_queue(settings)
    queue.flush()
    ids = _store_burst(factory, 120)
    for _ in ids:
        assert quiz_tasks.enqueue_grading(settings, COURSE, "kt")
    assert queue.pending_count() == 1
    with running_consumer(settings, workers=2):
        deadline = time.monotonic() + 120
        while waiting_quizzes(factory) and time.monotonic() < deadline:
            time.sleep(0.05)
    records = [store.load_submission(factory, i) for i in ids]
    assert [r.score for r in records] == [_score(n) for n in range(120)]
    assert _gradebook_scores(settings) == {f"c{n:05d}": _score(n) for n in range(120)}
    assert _lease_owner(factory) == ""  # given back


def test_a_long_rush_gives_the_worker_back_now_and_then(quiz_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Does a grading task that has run its time hand the quiz over to a fresh task at the back of the queue (so
    ingest and transcription jobs get the worker too), losing nothing?"""
    settings, factory = quiz_db(150)
    queue = quiz_tasks.ensure_queue(settings)
    ids = _store_burst(factory, 150)
    assert quiz_tasks.enqueue_grading(settings, COURSE, "kt")
    queue.storage.flush_queue()  # run it here instead
    monkeypatch.setattr(quiz_tasks, "RESIDENT_SECONDS", 0.0)
    quiz_tasks.grade_quiz.call_local(COURSE, "kt")
    assert waiting_quizzes(factory) == {(COURSE, "kt"): 50}  # one batch of 100, then it stepped aside
    assert queue.pending_count() == 1
    assert quiz_tasks.enqueue_grading(settings, COURSE, "kt") and queue.pending_count() == 1  # flag still set
    monkeypatch.setattr(quiz_tasks, "RESIDENT_SECONDS", 30.0)
    with running_consumer(settings):
        deadline = time.monotonic() + 60
        while waiting_quizzes(factory) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [store.load_submission(factory, i).score for i in ids] == [_score(n) for n in range(150)]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _lease_owner(factory) -> str | None:  # type: ignore[no-untyped-def]
    """Who holds the quiz's grading lease (its ``jobs`` row): ``""`` nobody, None no row yet."""
    with factory() as session:
        row = session.get(JobRow, quiz_tasks.lease_id(COURSE, "kt"))
        return None if row is None else row.owner


def _hold_as(factory, owner: str, heartbeat: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """Leave the quiz's lease as another worker would have (the row made first, as its first taker does)."""
    if _lease_owner(factory) is None:
        with quiz_tasks.quiz_lease(current(), COURSE, "kt").held() as claimed:
            assert claimed
    with transaction(factory) as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == quiz_tasks.lease_id(COURSE, "kt"))
            .values(owner=owner, heartbeat_at=heartbeat)
        )


def test_a_grader_whose_idle_wait_ended_in_a_stall_confirms_its_lease_before_going_idle(
    quiz_db, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    """A grader frozen while it waited for more submissions wakes to find its idle time long past, before its
    renewal thread has looked: the quiz was taken over meanwhile. Does it see that the lease is gone and stop as
    a lost holder (leaving the pending flag to the new one), rather than go idle as if it still held it?"""
    settings, factory = quiz_db(0)
    ctx = current()
    lease, lost = quiz_tasks.quiz_lease(ctx, COURSE, "kt"), threading.Event()
    with lease.held() as claimed:  # no renewal thread: ``lost`` is never set by one
        assert claimed
        _hold_as(factory, "host-b:4242", utcnow())  # taken over while this one was frozen
        monkeypatch.setattr(quiz_tasks, "LINGER_SECONDS", 0.0)  # the frozen time: the idle wait is over at once
        with caplog.at_level("WARNING", logger="diemcau.jobs.quiz_tasks"):
            assert quiz_tasks._grade_until_idle(ctx, COURSE, "kt", lease, lost) is None
    assert lost.is_set() and "lost the grading lease" in caplog.text
    assert _lease_owner(factory) == "host-b:4242", "the new holder keeps it"
    _hold_as(factory, "", utcnow())  # let go by the new holder
    with lease.held() as claimed:  # and a holder that still holds it goes idle as before
        assert claimed
        assert quiz_tasks._grade_until_idle(ctx, COURSE, "kt", lease, threading.Event()) is True


def test_a_lease_is_respected_while_its_holder_lives(settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    """Does a worker leave a quiz whose lease a live worker holds, and take over one whose holder died or went
    silent?"""
    ctx = install(sharing_database(settings, session_factory))
    here, now, expiry = socket.gethostname(), utcnow(), settings.jobs.lease_seconds
    cases = [
        (f"{here}:{os.getppid()}", now, False),  # a live process on this host
        ("another-node:4242", now, False),  # another node, renewed just now
        (f"{here}:{_dead_pid()}", now, True),  # killed: its process is gone
        ("another-node:4242", now - dt.timedelta(seconds=expiry + 1), True),  # silent too long
    ]
    for owner, heartbeat, taken in cases:
        _hold_as(session_factory, owner, heartbeat)
        with quiz_tasks.quiz_lease(ctx, COURSE, "kt").held() as claimed:
            assert claimed is taken, owner


def test_a_lost_flag_and_a_dead_workers_lease_lose_nothing(quiz_db) -> None:  # type: ignore[no-untyped-def]
    """With the pending flag set but its task lost, and the lease left by a killed worker, are the waiting
    submissions graded when a worker starts?"""
    settings, factory = quiz_db(5)
    queue = quiz_tasks.ensure_queue(settings)
    queue.flush()
    ids = _store_burst(factory, 5)
    queue.storage.put_data(quiz_locks._key("pending", COURSE, "kt"), b"1")
    _hold_as(factory, f"{socket.gethostname()}:{_dead_pid()}", utcnow())
    assert quiz_tasks.enqueue_grading(settings, COURSE, "kt") and queue.pending_count() == 0  # the flag says queued
    with running_consumer(settings):  # a worker starts: it queues grading of every quiz with waiting submissions
        deadline = time.monotonic() + 60
        while waiting_quizzes(factory) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [store.load_submission(factory, i).score for i in ids] == [_score(n) for n in range(5)]


WORKER = """
from diemcau.jobs import quiz_tasks
from diemcau.jobs.context import current
queue = quiz_tasks.ensure_queue(current().settings)
queue.create_consumer(workers=2, worker_type="thread", periodic=False, initial_delay=0.01).run()
"""


def test_a_worker_killed_mid_batch_loses_no_grade(quiz_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A worker process killed (SIGKILL) while it holds a quiz's lease, in the middle of a batch: does a new
    worker grade every submission, each exactly once in the gradebook?"""
    settings, factory = quiz_db(250)
    queue = quiz_tasks.ensure_queue(settings)
    queue.flush()
    ids = _store_burst(factory, 250)
    env = {
        **os.environ,
        "DIEMCAU_HOME": str(settings.home),
        "DIEMCAU_DATABASE__URL": settings.database_url,
        "DIEMCAU_CONTENT__COURSES_DIR": str(settings.courses_dir),
        "DIEMCAU_CONTENT__TRANSCRIPTS_DIR": str(settings.content.transcripts_dir),
        **queue_environ_of(settings),
    }
    worker = subprocess.Popen([sys.executable, "-c", WORKER], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not _lease_owner(factory) and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.005)
    os.kill(worker.pid, signal.SIGKILL)  # it starts grading on start-up: no task needs queueing
    worker.wait()
    assert _lease_owner(factory) == f"{socket.gethostname()}:{worker.pid}"  # left behind by the dead worker
    assert sum(waiting_quizzes(factory).values()) > 0  # killed before the end
    # Its task died with it: both backends take a task off the queue as a worker starts it (Redis: BRPOP).
    assert queue.pending_count() == 0 and queue.scheduled_count() == 0
    assert (settings.jobs_dir / "queue.sqlite").exists() == (settings.jobs.backend == "sqlite"), "the worker's queue"
    with running_consumer(settings):
        deadline = time.monotonic() + 120
        while waiting_quizzes(factory) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [store.load_submission(factory, i).score for i in ids] == [_score(n) for n in range(250)]
    assert _gradebook_scores(settings) == {f"c{n:05d}": _score(n) for n in range(250)}
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(QuizSubmissionRow)) == 250


QUIZ_WORKER = """
import logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
from diemcau.jobs import quiz_tasks
from diemcau.jobs.context import current
queue = quiz_tasks.ensure_queue(current().settings)
queue.create_consumer(workers=1, worker_type="thread", periodic=False, initial_delay=0.01).run()
"""
SHORT_LEASE = {"DIEMCAU_JOBS__LEASE_SECONDS": "4", "DIEMCAU_JOBS__RECOVERY_SECONDS": "1"}


def _host(settings, name: str, log) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    """A grading worker on its own "host": it shares only the database, the queue and the stores with the rest,
    so it cannot tell whether another host's worker is alive except through the lease."""
    env = {
        **os.environ,
        "DIEMCAU_HOME": str(settings.home),
        "DIEMCAU_DATABASE__URL": settings.database_url,
        "DIEMCAU_CONTENT__COURSES_DIR": str(settings.courses_dir),
        "DIEMCAU_CONTENT__TRANSCRIPTS_DIR": str(settings.content.transcripts_dir),
        "DIEMCAU_JOBS__HOST_NAME": name,
        **queue_environ_of(settings),
        **SHORT_LEASE,
    }
    return subprocess.Popen([sys.executable, "-c", QUIZ_WORKER], env=env, stderr=log.open("ab"))


def _until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _stop(*workers: subprocess.Popen | None) -> None:
    for worker in workers:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGCONT)
            worker.send_signal(signal.SIGKILL)
            worker.wait()


# The take-over of a killed grader's quiz by a worker on another host (``kill -9`` of the host, lease expiry, every
# submission graded once) runs on real hosts in tests/test_cluster.py.


def test_a_grader_that_lost_its_lease_stops(quiz_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A grader frozen past its lease (``SIGSTOP``: a stalled VM, a partition) while another host takes the quiz
    over: once it runs again, does it find on renewal that the lease is gone and stop, leaving the quiz to the
    new holder, with every submission graded once in the gradebook?"""
    settings, factory = quiz_db(250)
    queue = quiz_tasks.ensure_queue(settings)
    queue.flush()
    ids = _store_burst(factory, 250)
    log_a = tmp_path / "a.log"
    first, second = _host(settings, "host-a", log_a), None
    try:
        _until(lambda: _lease_owner(factory) or first.poll() is not None, 60, "host A's lease")
        first.send_signal(signal.SIGSTOP)
        second = _host(settings, "host-b", tmp_path / "b.log")
        _until(lambda: _lease_owner(factory) != f"host-a:{first.pid}", 60, "host B's take-over")
        first.send_signal(signal.SIGCONT)
        _until(lambda: "lost the grading lease" in log_a.read_text(), 60, "host A stopping")
        _until(lambda: not waiting_quizzes(factory), 120, "host B grading the rest")
        assert first.poll() is None, "A stopped its task, not its process"
    finally:
        _stop(first, second)
    assert [store.load_submission(factory, i).score for i in ids] == [_score(n) for n in range(250)]
    assert _gradebook_scores(settings) == {f"c{n:05d}": _score(n) for n in range(250)}
