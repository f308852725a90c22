"""The job queue on both backends (SQLite, Redis): what it keeps, whose tasks it holds, and what the platform says
when Redis cannot be reached.

The cheap tests here run on both backends (``queue_environ``). The end-to-end job tests are not doubled (they
are the suite's slowest: real Whisper, real ffmpeg, killed workers); each kind of scenario runs on Redis in at
least one test instead:

* enqueue → worker → done, and a worker ``kill -9``-ed mid-task whose work the sweeps queue again and that is
  graded exactly once: ``tests/test_quiz_batches.py`` (its queue follows the database: Redis beside PostgreSQL);
* a transcription worker ``kill -9``-ed mid-task, taken over from its checkpoint by another host's recovery
  sweep and finished once: ``tests/test_job_lease.py`` (two machines share a Redis queue, never a SQLite file).

Both backends take a task off the queue as a worker starts it, and Redis may lose what it holds (a restart
without persistence): a job whose task is lost is found by the recovery sweeps from its row in the database
(``test_a_transcription_whose_task_the_queue_lost_is_queued_again``).
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import subprocess
from pathlib import Path

import pytest

from diemcau.adapters.db import transcription_jobs
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.lectures import PublishRequest, load_run
from diemcau.adapters.db.models import JobRow
from diemcau.adapters.storage import stores_of
from diemcau.apps import setup_steps
from diemcau.jobs import quiz_tasks
from diemcau.jobs.context import install
from diemcau.jobs.publish import publish
from diemcau.jobs.queue import configure_queue, waiting_calls
from diemcau.jobs.transcribe_task import enqueue_transcription, recover_transcriptions, transcribe_lecture
from diemcau.search.tasks import reindex_lecture
from diemcau.settings import SettingsError, load_settings
from tests.data_dirs import data_dir_environ
from tests.seed import seed_small_province
from tests.transcript_fixtures import seed_lecture

BIN = Path(__file__).resolve().parents[1] / ".venv" / "bin"
SECRET = "s3cret-pw"


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _unreachable(tmp_path: Path) -> dict[str, str]:
    """A data directory whose Redis queue (with a password) does not answer."""
    url = f"redis://:{SECRET}@127.0.0.1:{_closed_port()}/0"
    return data_dir_environ(tmp_path, DIEMCAU_JOBS__BACKEND="redis", DIEMCAU_JOBS__REDIS_URL=url)


def test_a_finished_task_leaves_nothing_behind_in_the_queue(tmp_path: Path, queue_environ: dict[str, str]) -> None:
    """Does a task that ran leave no result in the queue's storage (nobody reads them: in Redis they would pile
    up for ever)?"""
    settings = load_settings(data_dir_environ(tmp_path, **queue_environ))
    setup_steps.ensure_data_dir(settings)
    setup_steps.ensure_database(settings)
    install(settings)
    queue = configure_queue(settings)
    reindex_lecture("no-such-lecture")
    assert queue.pending_count() == 1
    queue.execute(queue.dequeue())  # what a worker does with it (it returns "removed")
    assert queue.pending_count() == 0
    assert queue.storage.result_store_size() == 0


def test_each_queue_name_is_a_queue_of_its_own(tmp_path: Path, queue_environ: dict[str, str]) -> None:
    """Do two deployments sharing one storage under different ``jobs.queue_name`` never see each other's tasks?"""
    first = load_settings(data_dir_environ(tmp_path, **queue_environ))
    second = first.model_copy(update={"jobs": first.jobs.model_copy(update={"queue_name": "another_deployment"})})
    configure_queue(second).flush()
    try:
        configure_queue(first)
        reindex_lecture("a-lecture")
        assert configure_queue(first).pending_count() == 1
        assert configure_queue(second).pending_count() == 0
    finally:
        configure_queue(second).flush()
        configure_queue(first).flush()


@pytest.mark.parametrize(
    "url",
    [f"http://:{SECRET}@127.0.0.1:6379/0", f"redis://:{SECRET}@127.0.0.1:99999/0", f"redis://:{SECRET}@host/x"],
)
def test_a_bad_redis_url_is_refused_at_start_without_its_password(tmp_path: Path, url: str) -> None:
    """Is a malformed ``jobs.redis_url`` refused when the settings load (every process, at start), naming the key
    but never the password?"""
    with pytest.raises(SettingsError) as refused:
        load_settings(data_dir_environ(tmp_path, DIEMCAU_JOBS__BACKEND="redis", DIEMCAU_JOBS__REDIS_URL=url))
    message = str(refused.value)
    assert "jobs.redis_url" in message and SECRET not in message and ":***@" in message


@pytest.mark.parametrize("command", [["worker"], ["lecture", "publish", "x.mp4", "--course", "c", "--title", "t"]])
def test_an_unreachable_redis_stops_the_cli_with_one_line(tmp_path: Path, command: list[str]) -> None:
    """Does a worker or a publish facing a Redis that does not answer exit non-zero at once with one line naming
    the queue's URL without its password (no traceback)?"""
    environ = _unreachable(tmp_path)
    done = subprocess.run(
        [str(BIN / "diemcau"), *command], env=environ, capture_output=True, text=True, timeout=120, check=False
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("the job queue at redis://:***@127.0.0.1:") and "cannot be reached" in lines[0]
    assert SECRET not in done.stderr + done.stdout


def test_enqueuing_with_redis_down_keeps_the_work_for_the_sweeps(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With Redis down, does a publish (the API's or a worker's) still store its run, quiz grading leave its quiz
    and an ingest's hand-off its transcription to the sweeps that queue them once Redis is back, each logging one
    line without the password, instead of failing the request or the job?"""
    settings = load_settings(_unreachable(tmp_path))
    setup_steps.ensure_data_dir(settings)
    factory = setup_steps.ensure_database(settings)
    seed_small_province(factory)
    caplog.set_level(logging.WARNING)
    request = PublishRequest("https://media.example.org/bai-giang.mp4", "nq-cb-a1", "Bài giảng", published_by="api")
    published = publish(settings, factory, stores_of(settings).media, request)
    run = load_run(factory, published.run_id)
    assert run is not None and run.status == "queued" and not run.owner
    assert quiz_tasks.enqueue_grading(settings, "nq-cb-a1", "kt") is False
    seed_lecture(factory, "lecDown0001")
    enqueue_transcription(install(settings), "lecDown0001")
    assert transcription_jobs.load_job(factory, "lecDown0001").status == "queued"
    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == 3 and all(record.exc_info is None for record in warnings)
    assert all("cannot be reached" in record.getMessage() for record in warnings)
    assert SECRET not in caplog.text


def test_a_transcription_whose_task_the_queue_lost_is_queued_again(
    tmp_path: Path, queue_environ: dict[str, str]
) -> None:
    """Two transcriptions queued a while ago, one of whose tasks the queue lost (a worker took it and died before
    claiming it; a Redis restarted without persistence): does the recovery sweep queue the lost one again, with
    its request, and only once, leaving the one still queued alone?"""
    settings = load_settings(data_dir_environ(tmp_path, **queue_environ))
    setup_steps.ensure_data_dir(settings)
    setup_steps.ensure_database(settings)
    ctx = install(settings)
    queue = configure_queue(settings)
    for lecture_id in ("lecLost0001", "lecKept0001"):
        seed_lecture(ctx.factory, lecture_id)
    enqueue_transcription(ctx, "lecLost0001", audio="/srv/audio/lost.wav")
    enqueue_transcription(ctx, "lecKept0001")
    with transaction(ctx.factory) as session:  # queued an hour ago: longer than a lease
        session.query(JobRow).update({JobRow.updated_at: transcription_jobs._now() - dt.timedelta(hours=1)})
    assert queue.dequeue() is not None  # the first queued, lost with the worker that took it
    assert waiting_calls(queue, transcribe_lecture) == {("lecKept0001", "", "", False)}

    assert recover_transcriptions(ctx) == ["lecLost0001"]
    expected = {("lecKept0001", "", "", False), ("lecLost0001", "/srv/audio/lost.wav", "", False)}
    assert waiting_calls(queue, transcribe_lecture) == expected and queue.pending_count() == 2
    assert recover_transcriptions(ctx) == [], "queued again once, not at every sweep"
    assert transcription_jobs.load_job(ctx.factory, "lecLost0001").status == "queued"
