"""The platform on several hosts (``diemcau.devcluster``): each host in a network namespace of its own, PostgreSQL
and Redis on the data host, reached over the network; the hosts share only those and the shared volume.

Root only (``ip netns``); skipped elsewhere. One cluster per module (it starts in about five seconds).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from diemcau.adapters.db import quizzes as store
from diemcau.adapters.db import transcription_jobs as jobs
from diemcau.adapters.db.engine import make_engine, make_sessionmaker, transaction
from diemcau.adapters.db.models import MemberRow, OrgUnitRow
from diemcau.adapters.db.models_quiz import QuizSubmissionRow
from diemcau.adapters.db.quiz_batches import waiting_quizzes
from diemcau.adapters.nbgrader.course_dir import gradebook_schema, gradebook_url
from diemcau.adapters.transcript_store import load_transcript
from diemcau.devcluster import netns
from diemcau.devcluster.cluster import Cluster
from diemcau.devcluster.topology import Secrets, Topology, environ
from diemcau.jobs import quiz_tasks
from diemcau.jobs.context import WorkerContext, install
from diemcau.jobs.transcribe_task import enqueue_transcription, recover_transcriptions, run_transcription, work_dir
from diemcau.quizzes.publish import release
from diemcau.settings import load_settings
from tests.asr_fixtures import clips, whisper_dir  # noqa: F401 - fixtures
from tests.quiz_support import COURSE, quiz_yaml, write_spec
from tests.seed import seed_small_province
from tests.test_quiz_batches import _gradebook_scores, _lease_owner, _score, _store_burst, _until
from tests.test_transcribe_job import GREEDY, LECTURE, _windows_done, ready

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")

# A short lease (renewed every 2.7 s, on a thread the decoder does not block) and a sweep each second, so a dead
# host's work is taken over in seconds, not a minute; short windows and greedy decoding (these tests are about
# jobs, not accuracy).
FAST_TAKEOVER = {
    "DIEMCAU_JOBS__LEASE_SECONDS": "8",
    "DIEMCAU_JOBS__RECOVERY_SECONDS": "1",
    "DIEMCAU_TRANSCRIPTION__WINDOW_SECONDS": "5",
    **GREEDY,
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, whisper_dir: Path) -> Iterator[Cluster]:  # noqa: F811
    settings = {**FAST_TAKEOVER, "DIEMCAU_TRANSCRIPTION__MODEL": str(whisper_dir)}
    with Cluster.plan(tmp_path_factory.mktemp("cluster"), settings=settings) as running:
        engine = make_engine(load_settings(running.environ()).database_url)
        try:
            seed_small_province(make_sessionmaker(engine))  # the province every test here works in
        finally:
            engine.dispose()
        yield running


def _holder(owner: str | None) -> str:
    """The host part of a lease's owner (``worker1:1234`` → ``worker1``)."""
    return (owner or "").split(":")[0]


def test_a_worker_host_that_dies_mid_transcription_is_taken_over_from_its_checkpoint(
    cluster: Cluster,
    clips: dict[str, Path],  # noqa: F811
) -> None:
    """A transcription queued on Redis runs on one worker host; does the other host's recovery sweep leave it
    alone while its holder renews the lease, and, once that host loses power (``kill -9`` of all its processes),
    take it over after the lease expires and finish from the dead host's checkpoint on the shared volume, without
    redoing its finished windows?"""
    settings = load_settings(cluster.environ())
    factory = ready(settings)
    enqueue_transcription(install(settings), LECTURE, audio=str(clips["lecture"]))  # five windows
    checkpoint = work_dir(settings, LECTURE) / "windows.jsonl"

    _until(lambda: _holder(jobs.load_job(factory, LECTURE).owner).startswith("worker"), 120, "a worker host's lease")
    holder = _holder(jobs.load_job(factory, LECTURE).owner)
    survivor = next(h.name for h in cluster.topology.workers if h.name != holder)
    _until(lambda: _windows_done(checkpoint) >= 1, 120, "the holder's first finished window")
    survivor_log = cluster.logs / f"{survivor}-worker.log"
    _until(lambda: "transcription recovery" in survivor_log.read_text(), 60, "the survivor's sweep")
    job = jobs.load_job(factory, LECTURE)
    assert job.status == "running" and _holder(job.owner) == holder, "a live holder's job is left alone"
    as_survivor = WorkerContext.of(load_settings(cluster.environ(cluster.topology.host(survivor))))
    try:  # the survivor's sweep and claim, run from here: they find the lease live
        assert recover_transcriptions(as_survivor) == [], "the survivor's sweep re-queues nothing"
        assert run_transcription(as_survivor, LECTURE, audio=str(clips["lecture"])) is None, "nor can it claim it"
    finally:
        as_survivor.close()

    cluster.kill_host(holder)
    killed_after = _windows_done(checkpoint)
    assert _holder(jobs.load_job(factory, LECTURE).owner) == holder, "left behind: nobody can see the host died"

    def finished() -> bool:  # the status is written before the lease is let go: wait for both
        job = jobs.load_job(factory, LECTURE)
        return job.status in ("done", "failed") and not job.owner

    _until(finished, 300, "the survivor's take-over")
    cluster.start_worker(cluster.topology.host(holder))  # the host back, for the module's next test

    job = jobs.load_job(factory, LECTURE)
    assert job.status == "done" and job.owner == "", survivor_log.read_text()[-2000:]
    assert "re-queued transcriptions whose worker is gone" in survivor_log.read_text(), "its sweep took it over"
    transcript = load_transcript(settings.transcripts_dir, LECTURE)
    assert transcript is not None and transcript.settings["partial"] is False
    attempts, windows = transcript.settings["window_attempts"], transcript.settings["windows"]
    assert 1 <= killed_after < windows and transcript.settings["resumed_windows"] == killed_after
    assert attempts == [1] * killed_after + [2] * (windows - killed_after), "finished windows are not redone"


def test_a_quiz_week_is_graded_exactly_once_across_two_worker_hosts(cluster: Cluster) -> None:
    """A burst of submissions queued on Redis, two worker hosts grading, and the one holding the quiz's lease loses
    power (every process ``kill -9``) mid-burst: does the other host take the quiz over once the lease expires,
    and is every submission graded, each once in the gradebook, which is the course's schema in PostgreSQL (no
    gradebook file on the shared volume)?"""
    settings = load_settings(cluster.environ())
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    try:
        with transaction(factory) as session:
            cell = session.scalar(select(OrgUnitRow).where(OrgUnitRow.code == "cb-a1"))
            session.add_all(
                MemberRow(card_number=f"C{n:05d}", full_name=f"Đảng viên {n}", org_unit_id=cell.id) for n in range(200)
            )
        write_spec(settings, quiz_yaml(attempts=1))
        release(settings, factory, COURSE, "kt")
        ids = _store_burst(factory, 200)
        assert quiz_tasks.enqueue_grading(settings, COURSE, "kt"), "queued on the data host's Redis"

        _until(lambda: _holder(_lease_owner(factory)).startswith("worker"), 60, "a worker host's lease")
        holder = _holder(_lease_owner(factory))
        cluster.kill_host(holder)
        assert _holder(_lease_owner(factory)) == holder, "left behind by the dead host"
        left = sum(waiting_quizzes(factory).values())
        assert left > 0, "the burst was still being graded when the host died"
        survivor = next(h.name for h in cluster.topology.workers if h.name != holder)

        owners: set[str] = set()

        def finished() -> bool:
            owners.add(_holder(_lease_owner(factory)))
            return not waiting_quizzes(factory)

        _until(finished, 120, "the other host grading the rest")
        assert survivor in owners, f"the survivor took the lease over: {owners}"
        assert (_lease_owner(factory) or "") in ("", *(f"{survivor}:{p.pid}" for p in cluster.processes[survivor]))
        assert [store.load_submission(factory, i).score for i in ids] == [_score(n) for n in range(200)]
        assert _gradebook_scores(settings) == {f"c{n:05d}": _score(n) for n in range(200)}
        assert gradebook_schema(COURSE) in gradebook_url(settings, COURSE)
        assert not list(cluster.shared.rglob("gradebook.db*")), "the gradebook lives in PostgreSQL"
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(QuizSubmissionRow)) == 200
        cluster.start_worker(cluster.topology.host(holder))  # the host back, for the module's next test
    finally:
        engine.dispose()


def test_the_topology_names_fit_linux_and_its_settings_load() -> None:
    """Are the hosts' addresses distinct, every interface name within Linux's 15 characters, and is each host's
    environment valid settings pointing at the data host?"""
    topology = Topology("dcabcdef", 200, worker_hosts=9)
    secrets = Secrets("pg-secret", "redis-secret")
    assert len({host.address for host in topology.hosts}) == len(topology.hosts) == 10
    names = [topology.bridge, *(name for host in topology.hosts for name in topology.links(host))]
    assert all(len(name) <= 15 for name in names) and len(set(names)) == len(names)
    for host in topology.hosts:
        settings = load_settings(environ(topology, host, secrets, Path("/shared"), Path("/local")))
        assert settings.jobs.backend == "redis" and settings.jobs.host_name == host.name
        assert "10.231.200.10" in settings.database_url and "10.231.200.10" in settings.jobs.redis_url
    with pytest.raises(ValueError):
        Topology("Bad-Tag!", 1)


def test_a_stopped_cluster_leaves_nothing_behind(tmp_path: Path) -> None:
    """After ``stop()``, is every namespace, link and process of the cluster gone (the servers included)?"""
    cluster = Cluster.plan(tmp_path, worker_hosts=1).start()
    try:
        namespaces = [cluster.topology.namespace(host) for host in cluster.topology.hosts]
        assert all(p.poll() is None for ps in cluster.processes.values() for p in ps), "everything it started runs"
        assert all(netns.pids(namespace) for namespace in namespaces), "and runs in its host's namespace"
        server_dirs = list(cluster._server_dirs)
        assert server_dirs and all(folder.is_dir() for folder in server_dirs)
    finally:
        cluster.stop()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    assert not any(namespace in listed for namespace in namespaces)
    assert cluster.topology.tag not in links
    assert not any(folder.exists() for folder in server_dirs)
