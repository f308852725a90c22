"""The shipped nginx front (deploy/nginx/diemcau.conf) against a real nginx and two real API replicas.

Both replicas are the real app, each with its own engine, caches and group-commit writer, on one shared database,
served by uvicorn on random ports; nginx and the replicas start once per module. nginx is required under
``make test`` and skipped elsewhere without it (tests/nginx_front.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from diemcau.adapters.db.engine import make_engine, make_sessionmaker
from diemcau.adapters.nginx_config import NginxFront
from diemcau.apps import setup_steps
from diemcau.apps.api.app import create_app
from diemcau.apps.api.routes.media import CACHE_PLAYLISTS, CACHE_SEGMENTS
from diemcau.settings import Settings, load_settings
from tests.apiclient import PREFIX, auth, token_of
from tests.data_dirs import data_dir_environ
from tests.fakes import StaticTokenIdentity
from tests.media_fixtures import FAKE_SHA, seed_lecture_media
from tests.nginx_front import RecordingPeer, Replica, free_port, require_nginx, running_nginx, steering
from tests.seed import TODAY, seed_small_province
from tests.transcript_fixtures import LECTURE_ID, opened_yesterday

LECTURE = f"{PREFIX}/api/lectures/{LECTURE_ID}"
MEDIA = f"{PREFIX}/api/media/{LECTURE_ID}"
SECRET = b"secret-outside-the-media-folder"
_tags = itertools.count()


class Cluster:
    """Two replicas on one database, the shipped nginx in front; ``url`` is nginx's, ``hub`` stands in for the
    hub's proxy (it records what reaches it, and answers 404)."""

    def __init__(self, settings: Settings, replicas: list[Replica], url: str, hub: RecordingPeer, identity) -> None:  # type: ignore[no-untyped-def]
        self.settings, self.replicas, self.url, self.hub, self.identity = settings, replicas, url, hub, identity

    def send(self, client: httpx.Client, method: str, path: str, role: str | None = "member", **kwargs) -> tuple:  # type: ignore[no-untyped-def]
        """The response to one request through nginx, and the replicas that saw it (by its X-Test-Tag)."""
        tag = str(next(_tags))
        headers = {**auth(role), "X-Test-Tag": tag, **kwargs.pop("headers", {})}
        response = client.request(method, self.url + path, headers=headers, **kwargs)
        served = [i for i, replica in enumerate(self.replicas) if any(s.tag == tag for s in replica.log.seen)]
        return response, served


def start_replica(settings: Settings, identity: StaticTokenIdentity) -> Replica:
    """One API replica: the real app with its own engine (so its own pool, caches and writer)."""
    factory = make_sessionmaker(make_engine(settings.database_url))
    return Replica(create_app(settings, identity, session_factory=factory, today=lambda: TODAY)).start()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    require_nginx()
    root = tmp_path_factory.mktemp("nginx-front")
    settings = load_settings(data_dir_environ(root))
    setup_steps.ensure_data_dir(settings)
    factory = setup_steps.ensure_database(settings)
    seeded = seed_small_province(factory)
    seed_lecture_media(settings, factory)
    opened_yesterday(factory, seeded["users"].values())
    (settings.home / "secret.txt").write_bytes(SECRET)  # beside the media folder, where a traversal would land
    identity = StaticTokenIdentity({token_of(role): name for role, name in seeded["users"].items()})
    replicas = [start_replica(settings, identity) for _ in range(2)]
    port, hub = free_port(), RecordingPeer(RecordingPeer.HUB_ANSWER)
    front = NginxFront(
        listen=(f"127.0.0.1:{port}",),
        api=tuple(replica.address for replica in replicas),
        media_root=str(settings.media_dir),
        hub_proxy=hub.address,
    )
    with running_nginx(front, root / "nginx"):
        yield Cluster(settings, replicas, f"http://127.0.0.1:{port}", hub, identity)
    hub.close()
    for replica in replicas:
        replica.stop()


def heartbeat(start: float, end: float, seq: int) -> dict:
    return {"events": [{"event_id": f"hb-{seq}", "kind": "heartbeat", "start": start, "end": end, "seq": seq}]}


def test_a_callers_requests_stay_on_one_replica_and_the_other_agrees(cluster: Cluster) -> None:
    """Do one member's requests all go to the replica their first went to (nginx's hash of their credentials),
    does a heartbeat posted there read back through the other replica, and do both give the same lecture to its
    member and the same refusal to another cell's member?"""
    progress = f"{LECTURE}/progress"
    with httpx.Client() as client:
        posted, wrote = cluster.send(client, "POST", progress, json=heartbeat(0, 60, 1))
        assert posted.status_code == 200 and posted.json()["coverage_percent"] == 10.0
        assert [cluster.send(client, "GET", progress)[1] for _ in range(4)] == [wrote] * 4  # one caller, one replica

        def on(role: str) -> dict:  # headers that take ``role`` to each replica
            landed = lambda headers: tuple(cluster.send(client, "GET", progress, role=role, headers=headers)[1])
            return steering(landed, {(0,), (1,)})

        member = on("member")
        for headers in member.values():
            read, _ = cluster.send(client, "GET", progress, headers=headers)
            assert read.status_code == 200 and read.json() == posted.json()  # the other replica sees the write
        lectures = [cluster.send(client, "GET", LECTURE, headers=headers) for headers in member.values()]
        assert {served[0] for _, served in lectures} == {0, 1} and lectures[0][0].json() == lectures[1][0].json()
        refused = [
            cluster.send(client, "GET", LECTURE, role="other_cell", headers=h) for h in on("other_cell").values()
        ]
        assert {served[0] for _, served in refused} == {0, 1}
        assert [response.status_code for response, _ in refused] == [404, 404]


def test_the_api_prefix_goes_to_the_replicas_and_the_rest_to_the_hub(cluster: Cluster) -> None:
    """Does every request under the service prefix (the bare prefix too, which would loop through the hub's proxy
    back to nginx) reach a replica and never the hub's proxy, while the hub's own pages go to the hub's proxy?"""
    with httpx.Client() as client:
        for path in (PREFIX, f"{PREFIX}/", f"{PREFIX}/health", LECTURE):
            response, served = cluster.send(client, "GET", path)
            assert len(served) == 1 and response.status_code < 500, (path, response.status_code)
        login, served = cluster.send(client, "GET", "/hub/login")
        studio = client.post(f"{cluster.url}/user/42000022/studio/upload", content=b"\0" * (3 * 1024 * 1024))
        assert studio.status_code == 404  # the stand-in hub's answer, not nginx's 413: a lecture fits
    assert served == [] and login.status_code == 404 and login.content == b"not here\n"  # the stand-in hub's
    seen_by_hub = b"".join(cluster.hub.requests)
    assert b"GET /hub/login " in seen_by_hub and PREFIX.encode() not in seen_by_hub


def test_a_lecture_upload_larger_than_nginxs_default_reaches_a_replica(cluster: Cluster) -> None:
    """Does a 3 MiB upload (nginx refuses bodies over 1 MiB by default) reach a replica, which reads it and
    refuses it for what it is (not a video: 422), not nginx for its size (413)?"""
    with httpx.Client(timeout=30) as client:
        video = {"file": ("bai-giang.mp4", b"\0" * (3 * 1024 * 1024), "video/mp4")}
        form = {"course_id": "nq-cb-a1", "title": "Học tập Nghị quyết", "transcribe": "false"}
        response, served = cluster.send(
            client, "POST", f"{PREFIX}/api/lectures/upload", "trainer", files=video, data=form
        )
    assert len(served) == 1 and response.status_code == 422, response.text[:300]


def test_media_bytes_come_from_nginx_never_from_a_replica(cluster: Cluster) -> None:
    """Does nginx send the playlist and a Range of a segment (right types), while the replicas only answer the
    auth subrequests, with no body at all?"""
    segment = cluster.settings.media_dir / FAKE_SHA / "audio" / "seg_00000.ts"
    with httpx.Client() as client:
        master, _ = cluster.send(client, "GET", f"{MEDIA}/master.m3u8")
        assert master.status_code == 200 and master.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert master.content == (cluster.settings.media_dir / FAKE_SHA / "master.m3u8").read_bytes()
        assert master.headers["cache-control"] == CACHE_PLAYLISTS  # as the API itself would answer
        landed = lambda headers: tuple(cluster.send(client, "GET", f"{LECTURE}/progress", headers=headers)[1])
        for steer in steering(landed, {(0,), (1,)}).values():  # once through each replica
            headers = {"Range": "bytes=10-19", **steer}
            part, _ = cluster.send(client, "GET", f"{MEDIA}/audio/seg_00000.ts", headers=headers)
            assert part.status_code == 206 and part.content == segment.read_bytes()[10:20]
            assert part.headers["content-range"] == f"bytes 10-19/{segment.stat().st_size}"
            assert part.headers["content-type"] == "video/mp2t" and part.headers["cache-control"] == CACHE_SEGMENTS
    media = [seen for replica in cluster.replicas for seen in replica.log.seen if "/api/media" in seen.path]
    assert len(media) >= 3 and all(seen.path.startswith(f"{PREFIX}/api/media-auth/") for seen in media)
    assert sum(seen.body_bytes for seen in media) == 0  # a 204 per file: the bytes came from nginx
    assert all(any("/api/media-auth/" in seen.path for seen in replica.log.seen) for replica in cluster.replicas)


@pytest.mark.parametrize(
    "path",
    [
        f"{MEDIA}/..%2F..%2Fsecret.txt",
        f"{MEDIA}/..%2F..%2F..%2Fsecret.txt",
        f"{MEDIA}/%2E%2E/%2E%2E/secret.txt",
        f"{MEDIA}/..%252F..%252Fsecret.txt",  # double-encoded
        f"{MEDIA}/%2Fetc%2Fpasswd",
        f"{MEDIA}//etc/passwd",
        f"{MEDIA}/audio/../../../secret.txt",
        f"{PREFIX}/api/media/..%2F{FAKE_SHA}/master.m3u8",
        f"{PREFIX}/api/media/{LECTURE_ID}%00/master.m3u8",
        f"{PREFIX}/api/media/b%C3%A0i;gi%E1%BA%A3ng/master.m3u8",  # odd characters in the lecture id
        f"{PREFIX}/api/media/{LECTURE_ID}/audio/seg_00000.ts%00.m3u8",
        f"{PREFIX}/api/media-auth/{LECTURE_ID}/..%2F..%2Fsecret.txt",
        f"{PREFIX}/api/lectures/..%2F..%2F..%2Fsecret.txt",
    ],
)
def test_traversal_and_odd_ids_get_a_clean_4xx(cluster: Cluster, path: str) -> None:
    """Does every hostile media path, sent by an admin (who may see everything), get a 4xx and never a file
    outside the media folder, nor a 5xx?"""
    with httpx.Client() as client:
        response = client.get(cluster.url + path, headers=auth("admin"))
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert SECRET not in response.content and b"root:" not in response.content


def test_no_login_another_cell_and_huge_headers_are_refused(cluster: Cluster) -> None:
    """No login: 401; another cell's member: 403 (nginx passes only 401 and 403 on); oversized headers: a 4xx
    from nginx before any replica is asked."""
    with httpx.Client() as client:
        assert cluster.send(client, "GET", f"{MEDIA}/master.m3u8", role=None)[0].status_code == 401
        assert cluster.send(client, "GET", f"{MEDIA}/master.m3u8", role="other_cell")[0].status_code == 403
        assert cluster.send(client, "GET", f"{MEDIA}/audio/missing.ts")[0].status_code == 403
        huge, served = cluster.send(client, "GET", f"{MEDIA}/master.m3u8", headers={"Cookie": "a=" + "x" * 20000})
        assert 400 <= huge.status_code < 500 and served == []
        many = {f"X-Pad-{i}": "y" * 4000 for i in range(40)}
        crowded, served = cluster.send(client, "GET", LECTURE, headers=many)
        assert 400 <= crowded.status_code < 500 and served == []


def test_the_opus_rendition_is_guarded_like_the_others(cluster: Cluster) -> None:
    """Are the Opus rendition's init segment and fragments (``opus/init.mp4``, ``opus/seg_*.m4s``) sent by nginx to
    the lecture's member (as ``video/mp4``, Range honoured), and refused without login (401) and to another
    cell's member (403), by the same auth_request as every other rendition?"""
    folder = cluster.settings.media_dir / FAKE_SHA / "opus"
    folder.mkdir(exist_ok=True)
    (folder / "init.mp4").write_bytes(b"\x00\x00\x00\x18ftypiso5" + bytes(16))
    (folder / "seg_00000.m4s").write_bytes(b"\x00\x00\x00\x18stypmsdh" + bytes(range(256)) * 8)
    with httpx.Client() as client:
        for name in ("init.mp4", "seg_00000.m4s"):
            whole, _ = cluster.send(client, "GET", f"{MEDIA}/opus/{name}")
            assert whole.status_code == 200 and whole.content == (folder / name).read_bytes(), name
            assert whole.headers["content-type"] == "video/mp4" and whole.headers["cache-control"] == CACHE_SEGMENTS
            assert cluster.send(client, "GET", f"{MEDIA}/opus/{name}", role=None)[0].status_code == 401
            assert cluster.send(client, "GET", f"{MEDIA}/opus/{name}", role="other_cell")[0].status_code == 403
        part, _ = cluster.send(client, "GET", f"{MEDIA}/opus/seg_00000.m4s", headers={"Range": "bytes=0-7"})
        assert part.status_code == 206 and part.content == (folder / "seg_00000.m4s").read_bytes()[:8]


def test_writes_are_never_sent_twice_and_reads_survive_a_dead_replica(cluster: Cluster, tmp_path: Path) -> None:
    """With a replica that dies after reading each request: is a PUT or POST it received answered 502 and never
    sent again to the live replica (nginx by itself would re-send the PUT), while a GET is retried there? Callers
    are steered to the dying replica with throwaway cookies; each method has an nginx of its own, since nginx
    leaves a replica out after two failures."""
    dead, live = RecordingPeer(), cluster.replicas[0]
    media = str(cluster.settings.media_dir)
    progress, draft = f"{LECTURE}/progress", f"{PREFIX}/api/quizzes/nq-cb-a1/tuan-1/draft"
    requests = {
        "GET": (progress, None, "member"),
        "PUT": (draft, {"answers": {}}, "trainer"),
        "POST": (progress, heartbeat(0, 120, 2), "member"),
    }
    answers = []
    try:
        for method, (path, body, role) in requests.items():
            port = free_port()
            front = NginxFront((f"127.0.0.1:{port}",), (dead.address, live.address), media, live.address)
            flaky = Cluster(cluster.settings, [live], f"http://127.0.0.1:{port}", cluster.hub, cluster.identity)
            with running_nginx(front, tmp_path / method), httpx.Client() as client:
                for n in range(64):  # until one reaches the dying replica
                    heard = len(dead.requests)
                    steer = {"Cookie": f"steer={n}"}
                    response, served = flaky.send(client, method, path, role=role, json=body, headers=steer)
                    answers.append((method, response.status_code, served, response.request.headers["x-test-tag"]))
                    if len(dead.requests) > heard:
                        break
    finally:
        dead.close()
    received = {}
    for request in dead.requests:
        lines = request.split(b"\r\n")
        tag = next(line.split(b":", 1)[1].strip() for line in lines if line.lower().startswith(b"x-test-tag:"))
        received[tag.decode()] = lines[0].split(b" ")[0].decode()
    assert sorted(received.values()) == ["GET", "POST", "PUT"]  # each reached the dying replica once ...
    for method, status, served, tag in answers:
        if tag in received and method != "GET":  # ... a write it received was answered 502, never re-sent
            assert (status, served) == (502, []), (method, status, served)
        else:  # a read it received was retried on the live one; everything else went there first
            assert status < 500 and served == [0], (method, status, served)


def test_reads_and_writes_go_on_with_one_replica_stopped(cluster: Cluster, tmp_path: Path) -> None:
    """With the replica a member is hashed to stopped (connections refused), do their GETs and POSTs all succeed
    through the other? A POST is passed on only because the stopped replica never received it. (A replica and
    nginx of this test's own: the module's nginx would keep the stopped one out for fail_timeout.)"""
    live, stopped = cluster.replicas[0], start_replica(cluster.settings, cluster.identity)
    port = free_port()
    media = str(cluster.settings.media_dir)
    front = NginxFront((f"127.0.0.1:{port}",), (live.address, stopped.address), media, cluster.hub.address)
    halved = Cluster(cluster.settings, [live, stopped], f"http://127.0.0.1:{port}", cluster.hub, cluster.identity)
    progress = f"{LECTURE}/progress"
    with running_nginx(front, tmp_path / "nginx"), httpx.Client() as client:
        landed = lambda headers: tuple(halved.send(client, "GET", progress, headers=headers)[1])
        to_stopped = steering(landed, {(1,)})[(1,)]
        stopped.stop()
        for seq in range(10, 14):
            read, served = halved.send(client, "GET", progress, headers=to_stopped)
            assert read.status_code == 200 and served == [0]
            posted, served = halved.send(client, "POST", progress, json=heartbeat(0, 60, seq), headers=to_stopped)
            assert posted.status_code == 200 and served == [0]
