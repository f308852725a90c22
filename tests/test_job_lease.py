"""The job lease (``jobs.lease``): one worker at a time per job, across machines, taken over after expiry.

The process test runs two real ``diemcau worker`` processes that share only what a cluster shares — the
database, the queue and the stores — each with its own host name (``jobs.host_name``) and temporary folder,
so the second cannot tell whether the first is alive except through the lease in the database. Their queue is
the one machines share, Redis (``queue_on``): Redis pops a task as a worker takes it, so the killed worker's
task is gone and only the recovery sweep brings the job back. (These tests decode with Whisper, so they run on
one queue only; ``tests/test_transcribe_job.py`` kills a worker on the SQLite queue.) The take-over after
``kill -9`` of a whole host runs on real hosts (network namespaces) in ``tests/test_cluster.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import update

from diemcau.adapters.db import transcription_jobs as jobs
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import JobRow
from diemcau.adapters.transcript_store import load_transcript
from diemcau.jobs.context import install
from diemcau.jobs.lease import JobLease
from diemcau.jobs.transcribe_task import enqueue_transcription, work_dir
from diemcau.settings import load_settings
from tests.asr_fixtures import asr_environ, clips, whisper_dir  # noqa: F401 - fixtures
from tests.queue_support import queue_on
from tests.test_transcribe_job import BIN, GREEDY, LECTURE, _wait, _windows_done, ready

LEASE = {
    "DIEMCAU_JOBS__LEASE_SECONDS": "8",  # renewed every 2.7 s, on a thread the decoder does not block
    "DIEMCAU_JOBS__RECOVERY_SECONDS": "1",  # the recovery sweep runs each second, not each minute
    "DIEMCAU_TRANSCRIPTION__WINDOW_SECONDS": "5",
    **GREEDY,
}


def _hold_as(factory, owner: str, heartbeat: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """Write a lease as another machine's worker would have left it."""
    with transaction(factory) as session:
        session.execute(
            update(JobRow).where(JobRow.id == jobs.job_id(LECTURE)).values(owner=owner, heartbeat_at=heartbeat)
        )


def test_a_live_lease_on_another_host_is_never_taken_and_an_expired_one_is(
    tmp_path: Path,
    whisper_dir: Path,  # noqa: F811
) -> None:
    """Does a lease held by a live worker elsewhere refuse this process (and this process's second thread),
    while one whose holder stopped renewing is taken over?"""
    settings = load_settings(asr_environ(tmp_path, whisper_dir, **LEASE))
    factory = ready(settings)
    jobs.queue_job(factory, LECTURE)
    lease = JobLease(factory, jobs.job_id(LECTURE), 10.0)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    _hold_as(factory, "elsewhere:1", now)
    with lease.held() as claimed:
        assert claimed is False, "a fresh lease of another host is not taken"
    assert jobs.load_job(factory, LECTURE).owner == "elsewhere:1"

    _hold_as(factory, "elsewhere:1", now - dt.timedelta(seconds=60))
    with lease.held() as claimed:
        assert claimed is True, "an expired lease is taken over"
        assert jobs.load_job(factory, LECTURE).owner.endswith(f":{os.getpid()}")
        with lease.held() as again:
            assert again is False, "a second thread of the holder does not run the job twice"
    assert jobs.load_job(factory, LECTURE).owner == "", "let go when done"


WORKER = "import logging, sys; logging.basicConfig(level=logging.INFO); from diemcau.apps.cli import app; app()"


def _worker(environ: dict[str, str], log: Path) -> subprocess.Popen:
    """``diemcau worker`` with its INFO log (what its recovery sweeps did) in ``log``."""
    env = {**os.environ, **environ, "PYTHONUNBUFFERED": "1"}
    command = [str(BIN / "python"), "-c", WORKER, "worker"]
    return subprocess.Popen(command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _two_hosts(tmp_path: Path, shared: dict[str, str]) -> dict[str, dict[str, str]]:
    """Two "machines" sharing a Redis queue (and whatever database ``shared`` names): one environment each, with its own host name and temporary folder."""
    shared = {**shared, **queue_on("redis")}
    hosts = {}
    for name in ("a", "b"):
        (tmp_path / f"tmp-{name}").mkdir()
        hosts[name] = {**shared, "DIEMCAU_JOBS__HOST_NAME": f"host-{name}", "TMPDIR": str(tmp_path / f"tmp-{name}")}
    return hosts


# The hosts share a database server, as deployed: frozen in the middle of a write on a shared SQLite file, host A
# would keep its lock and stop host B as well (seen once under load).
@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_holder_that_lost_its_lease_stops_and_writes_nothing_more(
    tmp_path: Path,
    whisper_dir: Path,
    clips: dict[str, Path],  # noqa: F811
    db_url: str,
) -> None:
    """Host A frozen (``SIGSTOP``: a stalled VM, a partition) past its lease while host B takes the lecture over:
    once A runs again, does it find on renewal that the lease is B's and stop, leaving B to finish the job?"""
    short = {**LEASE, "DIEMCAU_JOBS__LEASE_SECONDS": "4"}  # A's lease lapses soon after it is frozen
    hosts = _two_hosts(tmp_path, asr_environ(tmp_path, whisper_dir, DIEMCAU_DATABASE__URL=db_url, **short))
    settings_a = load_settings(hosts["a"])
    factory = ready(settings_a)
    enqueue_transcription(install(settings_a), LECTURE, audio=str(clips["lecture"]))
    checkpoint = work_dir(settings_a, LECTURE) / "windows.jsonl"
    log_a, log_b = tmp_path / "worker-a.log", tmp_path / "worker-b.log"

    first = _worker(hosts["a"], log_a)
    second = None
    try:
        _wait(lambda: _windows_done(checkpoint) >= 1, 120, "host A's first finished window")
        first.send_signal(signal.SIGSTOP)
        second = _worker(hosts["b"], log_b)
        _wait(lambda: jobs.load_job(factory, LECTURE).owner.startswith("host-b:"), 120, "host B's take-over")
        first.send_signal(signal.SIGCONT)
        _wait(lambda: "was taken over by another worker: stopping" in log_a.read_text(), 60, "host A stopping")
        _wait(lambda: jobs.load_job(factory, LECTURE).status in ("done", "failed"), 120, "host B finishing")
        assert first.poll() is None, "A stopped its task, not its process"
    finally:  # both stopped at once: each takes up to a second to leave its wait on the queue
        running = [process for process in (first, second) if process is not None and process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGCONT)
            process.send_signal(signal.SIGINT)
        for process in running:
            process.wait(30)
    job = jobs.load_job(factory, LECTURE)
    assert job is not None and job.status == "done" and job.owner == "", log_b.read_text()[-2000:]
    assert "transcription of %s failed" % LECTURE not in log_a.read_text()
    transcript = load_transcript(settings_a.transcripts_dir, LECTURE)
    assert transcript is not None and transcript.settings["partial"] is False
    assert 2 in transcript.settings["window_attempts"], "B, on its attempt, wrote the transcript"
