"""The platform on several hosts (``diemcau.devcluster``): each host in a network namespace of its own, PostgreSQL,
Redis and nginx on the data host, reached over the network, two API hosts behind nginx, two worker hosts and the
hub's host; the hosts share only those and the shared volume.

Root only (``ip netns``); skipped elsewhere. One cluster per module; its hub host starts idle, and one test starts
the hub on it (half a minute on two cores). The API hosts run ``tests.cluster_api``: the real API, whose hub token
check knows the seeded users' test tokens without asking the hub (``TokensThenHub``); a browser's login goes to the
real hub.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from diemcau.adapters.db import accounts
from diemcau.adapters.db import quizzes as store
from diemcau.adapters.db import transcription_jobs as jobs
from diemcau.adapters.db.engine import make_engine, make_sessionmaker, transaction
from diemcau.adapters.db.models import MemberRow, OrgUnitRow
from diemcau.adapters.db.models_progress import ProgressEventRow
from diemcau.adapters.db.models_quiz import QuizSubmissionRow
from diemcau.adapters.db.quiz_batches import waiting_quizzes
from diemcau.adapters.nbgrader.course_dir import gradebook_schema, gradebook_url
from diemcau.adapters.transcript_store import load_transcript
from diemcau.devcluster import netns
from diemcau.devcluster.cluster import Cluster
from diemcau.devcluster.topology import SERVICE_PREFIX, Secrets, Topology, environ
from diemcau.i18n import t
from diemcau.jobs import quiz_tasks
from diemcau.jobs.context import WorkerContext, install
from diemcau.jobs.publish import is_finished
from diemcau.jobs.transcribe_task import enqueue_transcription, recover_transcriptions, run_transcription, work_dir
from diemcau.quizzes.publish import release
from diemcau.settings import load_settings
from tests.apiclient import PREFIX, auth
from tests.asr_fixtures import clips, whisper_dir  # noqa: F401 - fixtures
from tests.data_dirs import CHEAP
from tests.media_fixtures import seed_lecture_media
from tests.nginx_front import steering
from tests.quiz_support import COURSE, quiz_yaml, write_spec
from tests.seed import seed_small_province
from tests.test_quiz_batches import _gradebook_scores, _lease_owner, _score, _store_burst, _until
from tests.test_transcribe_job import GREEDY, LECTURE, _windows_done, ready
from tests.transcript_fixtures import LECTURE_ID, opened_yesterday

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")

# A short lease (renewed every 1.7 s, on a thread the decoder does not block: a live holder misses two renewals
# before it could be taken over) and a sweep each second, so a dead host's work is taken over in seconds, not a
# minute; short windows and greedy decoding (these tests are about jobs, not accuracy).
FAST_TAKEOVER = {
    "DIEMCAU_JOBS__LEASE_SECONDS": "5",
    "DIEMCAU_JOBS__RECOVERY_SECONDS": "1",
    "DIEMCAU_TRANSCRIPTION__WINDOW_SECONDS": "5",
    **GREEDY,
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, whisper_dir: Path) -> Iterator[Cluster]:  # noqa: F811
    settings = {**FAST_TAKEOVER, "DIEMCAU_TRANSCRIPTION__MODEL": str(whisper_dir)}
    root = tmp_path_factory.mktemp("cluster")
    running = Cluster.plan(root, settings=settings, api_module="tests.cluster_api", hub=True)
    running.start(hub=False)  # its host idle: the hub test starts it
    try:
        engine = make_engine(load_settings(running.environ()).database_url)
        try:
            seed_small_province(make_sessionmaker(engine))  # the province every test here works in
        finally:
            engine.dispose()
        yield running
    finally:
        running.stop()


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


def _front_log(cluster: Cluster) -> list[tuple[str, str, str, str]]:
    """nginx's access log on the data host: method, URI, status and the API host(s) that answered, per request."""
    lines = (cluster.nginx_folder / "access.log").read_text().splitlines()
    return [(method, uri, status, upstream) for method, uri, status, upstream in (f.split(" ", 3) for f in lines)]


def _logged(cluster: Cluster, uri: Callable[[str], bool], count: int) -> list[tuple[str, str, str, str]]:
    """The lines of nginx's access log whose URI ``uri`` accepts, once there are ``count`` of them: nginx writes a
    request's line after its response has gone out, so the client can read the log before the line is there."""
    _until(lambda: len([line for line in _front_log(cluster) if uri(line[1])]) >= count, 10, "nginx's log lines")
    return [line for line in _front_log(cluster) if uri(line[1])]


def test_a_lecture_published_on_an_api_host_is_transcribed_on_a_worker_host_and_streamed_through_nginx(
    cluster: Cluster,
    clips: dict[str, Path],  # noqa: F811
) -> None:
    """A trainer uploads a recorded lecture (speech, audio only) through nginx: does it land on an API host, get ingested and transcribed on a
    worker host (the job's lease names one), and does a member of its audience then stream its playlists and
    segments through nginx, the bytes sent by nginx from the shared volume, while the API hosts see only the
    authorisation subrequests, and does nginx refuse another cell's member and a caller with no login?"""
    settings = load_settings(cluster.environ())
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    api_hosts = {f"{host.address}:8090": host.name for host in cluster.topology.apis}
    url = cluster.topology.nginx_url + PREFIX
    audio = clips["speech"]
    try:
        with httpx.Client(timeout=60) as client, audio.open("rb") as handle:
            form = {"course_id": "nq-cb-a1", "title": "Học tập Nghị quyết", "transcribe": "true"}
            files = {"file": ("bai-giang.m4a", handle, "audio/mp4")}
            published = client.post(f"{url}/api/lectures/upload", headers=auth("trainer"), data=form, files=files)
        assert published.status_code == 202, published.text
        lecture_id = published.json()["id"]
        uploads = [
            up for method, _, _, up in _logged(cluster, lambda uri: uri.endswith("/upload"), 1) if method == "POST"
        ]
        assert len(uploads) == 1 and uploads[0] in api_hosts, uploads  # one API host took it, no retry

        holders: set[str] = set()

        def finished() -> bool:
            job = jobs.load_job(factory, lecture_id)
            holders.add(_holder(job.owner if job else ""))
            return is_finished(factory, lecture_id)

        _until(finished, 300, "the lecture ingested and transcribed")
        job = jobs.load_job(factory, lecture_id)
        assert job is not None and job.status == "done", job and job.error
        assert holders - {""} and all(h.startswith("worker") for h in holders - {""}), holders  # a worker host
        transcript = load_transcript(settings.transcripts_dir, lecture_id)
        assert transcript is not None and transcript.segments, "the transcript is on the shared volume"

        with httpx.Client(timeout=30) as client:
            lecture = client.get(f"{url}/api/lectures/{lecture_id}", headers=auth("member")).json()
            assert lecture["status"] == "ready" and lecture["media"]["master"].startswith(f"{PREFIX}/api/media/")
            base = f"{url}/api/media/{lecture_id}"
            master = client.get(f"{base}/master.m3u8", headers=auth("member"))
            assert master.status_code == 200 and master.headers["cache-control"] == "private, max-age=60"
            variant = next(line for line in master.text.splitlines() if line and not line.startswith("#"))
            playlist = client.get(f"{base}/{variant}", headers=auth("member"))
            segment = next(line for line in playlist.text.splitlines() if line and not line.startswith("#"))
            folder = variant.rsplit("/", 1)[0]
            streamed = client.get(f"{base}/{folder}/{segment}", headers=auth("member"))
            assert playlist.status_code == 200 and streamed.status_code == 200 and streamed.content
            on_volume = [p.read_bytes() for p in settings.media_dir.glob(f"*/{folder}/{segment}")]
            assert streamed.content in on_volume, "nginx sent the shared volume's file"
            refused = client.get(f"{base}/{folder}/{segment}", headers=auth("other_cell"))
            anonymous = client.get(f"{base}/{folder}/{segment}")
            assert (refused.status_code, anonymous.status_code) == (403, 401)
        replicas_saw = "".join((cluster.logs / f"{name}-api.log").read_text() for name in api_hosts.values())
        assert f"/api/media-auth/{lecture_id}/" in replicas_saw, "nginx asked an API host"
        assert f"/api/media/{lecture_id}/" not in replicas_saw, "no media request reached an API host"
        media = _logged(cluster, lambda uri: f"/api/media/{lecture_id}/" in uri, 5)
        assert [status for _, _, status, _ in media] == ["200", "200", "200", "403", "401"]
    finally:
        engine.dispose()


def _steered(cluster: Cluster, url: str, role: str, hosts: set[str]) -> dict[str, dict[str, str]]:
    """Headers that take ``role``'s requests to each API host (``host:port``), found through nginx's log."""
    with httpx.Client(timeout=30) as client:

        def landed(headers: dict[str, str]) -> str:
            probe = uuid.uuid4().hex
            assert client.get(f"{url}?probe={probe}", headers={**auth(role), **headers}).status_code == 200
            return _logged(cluster, lambda uri: probe in uri, 1)[-1][3]

        return steering(landed, hosts)


@dataclass
class HeartbeatClient:
    """A player sending heartbeats through nginx with the player's rules (static/player.js ``send``): each event
    has its own id and is sent until it is delivered (2xx) or refused for good (a 4xx other than 401, 408, 425 and
    429); anything else (no connection, a 5xx) is sent again, as the player's queue does."""

    role: str
    url: str
    steer: dict[str, str] = field(default_factory=dict)  # a throwaway cookie that takes it to one API host
    acked: list[str] = field(default_factory=list)
    answers: list[int | str] = field(default_factory=list)  # each try's status, or "error" (no answer)
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)  # events that needed more than one try

    def run(self, stop: threading.Event) -> None:
        seq = int(time.time())
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                seq += 1
                event = {"event_id": uuid.uuid4().hex, "kind": "heartbeat", "start": 0, "end": 1 + seq % 3, "seq": seq}
                self.send(client, event)

    def send(self, client: httpx.Client, event: dict) -> None:
        headers = {**auth(self.role), "X-Diemcau-Request": "1", **self.steer}
        for attempt in range(200):
            try:
                response = client.post(self.url, json={"events": [event]}, headers=headers)
            except httpx.TransportError:
                self.answers.append("error")
            else:
                self.answers.append(response.status_code)
                if response.is_success:
                    self.acked.append(event["event_id"])
                    return
                if 400 <= response.status_code < 500 and response.status_code not in (401, 408, 425, 429):
                    self.refused.append((event["event_id"], response.status_code, response.text))
                    return
            if attempt == 0:
                self.retried.append(event["event_id"])
            time.sleep(0.05)  # the player waits longer (its next send, 30 s at most); the rule is the same
        raise AssertionError(f"{event['event_id']} never got through")


def test_an_api_host_killed_under_heartbeats_loses_no_acknowledged_event(cluster: Cluster) -> None:
    """Players send heartbeats through nginx to both API hosts, and one API host loses power (every process
    ``kill -9``) mid-run: is every heartbeat that was acknowledged in the database, once, did no client see
    anything but a success or an answer the player retries (and then a success for that event), did nginx answer
    a post the dead host had received with 502 instead of sending it again, go on serving through the other host,
    and does a replayed event count once?"""
    settings = load_settings(cluster.environ())
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    dead, alive = cluster.topology.apis[0], cluster.topology.apis[1]
    try:
        seed_lecture_media(settings, factory)  # a ready lecture of cell A1
        opened_yesterday(factory, ["a1001", "a1002"])  # member and secretary, both of cell A1
        url = f"{cluster.topology.nginx_url}{PREFIX}/api/lectures/{LECTURE_ID}/progress"
        address = {host: f"{host.address}:8090" for host in (dead, alive)}
        clients = [
            HeartbeatClient(role, url, steer)  # nginx keeps each caller on one host: a member and a secretary on each
            for role in ("member", "secretary")
            for steer in _steered(cluster, url, role, set(address.values())).values()
        ]
        stop = threading.Event()
        threads = [threading.Thread(target=c.run, args=(stop,)) for c in clients]
        for thread in threads:
            thread.start()
        try:
            acked = lambda: sum(len(c.acked) for c in clients)
            _until(lambda: acked() >= 24, 60, "heartbeats through both API hosts")
            cluster.kill_host(dead.name)
            killed_at = len(_front_log(cluster))  # what nginx answered after this, the dead host cannot have
            at_kill = acked()
            _until(lambda: acked() >= at_kill + 40, 60, "heartbeats after the kill")
        finally:
            stop.set()
            for thread in threads:
                thread.join(60)
        cluster.start_api(dead)  # the host back, for the module's next test

        answers = [answer for c in clients for answer in c.answers]
        assert [r for c in clients for r in c.refused] == [], "nothing was refused for good"
        assert set(answers) <= {200, 502, 503, 504, "error"}, set(answers)
        ids = [event_id for c in clients for event_id in c.acked]
        retried = [event_id for c in clients for event_id in c.retried]
        assert set(retried) <= set(ids), "every retried event got through in the end"
        with factory() as session:
            stored = session.scalars(
                select(ProgressEventRow.event_id).where(ProgressEventRow.lecture_id == LECTURE_ID)
            ).all()
        assert len(ids) == len(set(ids)) and sorted(stored) == sorted(ids), "every acknowledged heartbeat, once"

        log = _front_log(cluster)
        posts = [
            [(status, up) for method, uri, status, up in part if method == "POST" and uri.endswith("/progress")]
            for part in (log[:killed_at], log[killed_at:])
        ]
        before, after = posts
        assert {up for status, up in before if status == "200"} == set(address.values()), "both served before"
        assert all(up.endswith(address[alive]) for status, up in after if status == "200"), "then the other"
        # A POST the dead host had received is answered 502, never sent again (it may have been applied there);
        # one it refused is passed on ("dead, alive"): that happens only before the request was sent.
        assert all(up == address[dead] for status, up in before + after if status == "502")
        assert sum(status == "200" for status, _ in after) >= 40

        replay = clients[0]
        first = {"event_id": replay.acked[0], "kind": "heartbeat", "start": 0, "end": 1, "seq": 1}
        with httpx.Client(timeout=30) as client:
            again = client.post(url, json={"events": [first]}, headers={**auth("member"), "X-Diemcau-Request": "1"})
        assert again.status_code == 200
        with factory() as session:
            count = select(func.count()).where(ProgressEventRow.event_id == replay.acked[0])
            assert session.scalar(count.select_from(ProgressEventRow)) == 1, "a replayed event counts once"
        print(f"answers: {len(answers)}, retried events: {len(retried)}, 502s: {answers.count(502)}")
    finally:
        engine.dispose()


def test_a_member_logs_in_at_the_hub_host_and_reaches_the_portal_and_an_api_host(cluster: Cluster) -> None:
    """With the hub started on its own host (``diemcau hub``: its proxy there, the API an external service at
    nginx), does a seeded member log in through the hub host's proxy with the real login form (its xsrf token and
    cookie), then reach the portal through the hub host — Hub OAuth completed by an API host behind nginx — in
    Vietnamese, and an API call made with the member's cookie answered by an API host through nginx?"""
    settings = load_settings(cluster.environ())
    engine = make_engine(settings.database_url)
    try:
        accounts.set_password(make_sessionmaker(engine), "A1001", "mat-khau-thu", verifier=CHEAP)
    finally:
        engine.dispose()
    began = time.monotonic()
    cluster.start_hub()
    print(f"hub host started in {time.monotonic() - began:.1f} s")
    url, hub = cluster.topology.hub_url, cluster.topology.hub_host.address
    with httpx.Client(timeout=30, follow_redirects=True) as client:
        form = client.get(f"{url}hub/login")
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text)
        assert form.status_code == 200 and xsrf and "_xsrf" in client.cookies, form.text[-2000:]
        login = {"username": "a1001", "password": "mat-khau-thu", "_xsrf": xsrf.group(1)}
        assert client.post(f"{url}hub/login", data=login, follow_redirects=False).status_code == 302
        portal = client.get(f"{url}{SERVICE_PREFIX.lstrip('/')}", headers={"Accept": "text/html"})
        assert portal.status_code == 200 and portal.url.host == hub, (portal.url, portal.text[-2000:])
        assert '<html lang="vi">' in portal.text and t("portal.greeting", name="Nguyễn Văn An") in portal.text
        hops = [str(r.url.path) for r in portal.history]
        assert f"{SERVICE_PREFIX}oauth_callback" in hops, hops  # Hub OAuth, completed by an API host
        me = client.get(f"{url}{SERVICE_PREFIX.lstrip('/')}api/me")
    assert me.status_code == 200 and me.json()["username"] == "a1001"
    api_hosts = {f"{host.address}:8090" for host in cluster.topology.apis}
    answered = _logged(cluster, lambda uri: uri == f"{SERVICE_PREFIX}api/me", 1)
    assert all(status == "200" and up in api_hosts for _, _, status, up in answered), answered


def test_the_topology_names_fit_linux_and_its_settings_load() -> None:
    """Are the hosts' addresses distinct, every interface name within Linux's 15 characters, and is each host's
    environment valid settings pointing at the data host?"""
    topology = Topology("dcabcdef", 200, worker_hosts=9, api_hosts=9, hub=True)
    secrets = Secrets("pg-secret", "redis-secret")
    assert len({host.address for host in topology.hosts}) == len(topology.hosts) == 20
    assert [h.role for h in topology.hosts] == ["data", *["api"] * 9, *["worker"] * 9, "hub"]
    names = [topology.bridge, *(name for host in topology.hosts for name in topology.links(host))]
    assert all(len(name) <= 15 for name in names) and len(set(names)) == len(names)
    for host in topology.hosts:
        settings = load_settings(environ(topology, host, secrets, Path("/shared"), Path("/local")))
        assert settings.jobs.backend == "redis" and settings.jobs.host_name == host.name
        assert "10.231.200.10" in settings.database_url and "10.231.200.10" in settings.jobs.redis_url
        assert settings.hub.api_url == "http://10.231.200.10:8080" and settings.hub.hub_ip == "10.231.200.40"
        assert settings.hub.run_worker is (host.role != "hub"), "the worker hosts run the workers, not the hub"
    front = topology.front(Path("/shared/var/media"))
    assert front.api == tuple(f"10.231.200.{20 + n}:8090" for n in range(1, 10))
    assert front.hub_proxy == "10.231.200.40:8000" and front.listen == ("10.231.200.10:8080",)
    with pytest.raises(ValueError):
        Topology("Bad-Tag!", 1)


def test_a_stopped_cluster_leaves_nothing_behind(cluster: Cluster) -> None:
    """After ``stop()``, is every namespace, link, process and server folder of the cluster gone — the servers,
    nginx, the API replicas, workers and the hub included, whichever hosts the tests above killed? (Last in the
    module: it stops the module's cluster, which the other tests ran on; starting one of its own cost ~25 s.)"""
    hosts = cluster.topology.hosts
    assert [h.role for h in hosts] == ["data", "api", "api", "worker", "worker", "hub"]
    assert len(cluster.processes["data"]) == 3, "PostgreSQL, Redis and nginx"
    health = httpx.get(f"{cluster.topology.nginx_url}/services/diemcau/health", timeout=10)
    assert health.status_code == 200, "the real app on an API host that still runs, through nginx"
    namespaces = [cluster.topology.namespace(host) for host in hosts]
    running = [process for processes in cluster.processes.values() for process in processes]
    assert running and all(process.poll() is None for process in running), "what has not been killed runs"
    assert netns.pids(cluster.topology.namespace(cluster.topology.data)), "in its host's namespace"
    server_dirs = list(cluster._server_dirs)
    assert server_dirs and all(folder.is_dir() for folder in server_dirs)
    cluster.stop()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    assert not any(namespace in listed for namespace in namespaces)
    assert cluster.topology.tag not in links
    assert all(process.poll() is not None for process in running) and not cluster.processes
    assert not any(folder.exists() for folder in server_dirs)
