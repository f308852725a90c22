"""Lectures through the API: trainers publish (upload or URL), members play — every media request authorized.

Real ffmpeg encodes; the queue runs in-process (``drain_queue``) where a worker would.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.models import LectureRow
from diemcau.apps import setup_steps
from diemcau.i18n import t
from diemcau.jobs.publish import drain_queue, is_finished
from diemcau.settings import Settings, load_settings
from tests.apiclient import PREFIX, auth, seeded_client
from tests.data_dirs import data_dir_environ
from tests.media_fixtures import make_video


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 5-second 640x360 test video with a tone."""
    return make_video(tmp_path_factory.mktemp("api-media") / "bai-giang.mp4", seconds=5.0, size="640x360")


def make_api(home: Path, **env: str) -> tuple[TestClient, Settings, sessionmaker[Session]]:
    """The API on a seeded province, its settings (``env`` overrides) pointing at the same database as the app."""
    settings = load_settings(data_dir_environ(home, **env))
    setup_steps.ensure_data_dir(settings)
    factory = setup_steps.ensure_database(settings)
    client, _ = seeded_client(settings, factory)
    return client, settings, factory


@pytest.fixture
def api(tmp_path: Path) -> tuple[TestClient, Settings, sessionmaker[Session]]:
    """A fresh API and data directory for one test."""
    return make_api(tmp_path)


def upload(client: TestClient, path: Path, role: str = "trainer", course: str = "nq-cb-a1"):  # type: ignore[no-untyped-def]
    """POST the file as a multipart upload."""
    with path.open("rb") as handle:
        return client.post(
            f"{PREFIX}/api/lectures/upload",
            headers=auth(role),
            data={"course_id": course, "title": "Học tập Nghị quyết", "transcribe": "false"},
            files={"file": (path.name, handle, "video/mp4")},
        )


def run_jobs(settings: Settings, factory: sessionmaker[Session], lecture_id: str) -> None:
    """What a worker would do: run queued jobs until the lecture is finished."""
    drain_queue(settings, lambda: is_finished(factory, lecture_id), idle_sleep=0.05)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, video: Path) -> tuple[TestClient, dict]:
    """A ready lecture published by upload into course nq-cb-a1 (audience: cell A1), shared by the module's
    read-only tests."""
    client, settings, factory = make_api(tmp_path_factory.mktemp("published"))
    response = upload(client, video)
    assert response.status_code == 202, response.text
    run_jobs(settings, factory, response.json()["id"])
    lecture = client.get(f"{PREFIX}/api/lectures/{response.json()['id']}", headers=auth("member")).json()
    return client, lecture


def test_upload_publishes_a_ready_lecture_with_media_links(published) -> None:  # type: ignore[no-untyped-def]
    """Does an uploaded video become ready, with audio-only (AAC and Opus), 240p and 360p (not 720p) and the
    download?"""
    _, lecture = published
    assert lecture["status"] == "ready" and lecture["status_label"] == t("media.status_ready")
    media = lecture["media"]
    assert [r["name"] for r in media["renditions"]] == ["audio", "opus", "v240", "v360"]
    assert [r["codecs"] for r in media["renditions"][:2]] == ["mp4a.40.2", "opus"]
    assert media["renditions"][0]["label"] == "Chỉ nghe"
    assert media["opus_playlist"] == f"{PREFIX}/api/media/{lecture['id']}/opus/index.m3u8"
    assert media["master"] == f"{PREFIX}/api/media/{lecture['id']}/master.m3u8"
    assert media["audio_file"].endswith("/audio.m4a") and lecture["error"] == "" and lecture["stage"] == ""


def test_media_files_have_their_content_types(published) -> None:  # type: ignore[no-untyped-def]
    """Are playlists, segments, poster and download served with the types players expect?"""
    client, lecture = published
    base = f"{PREFIX}/api/media/{lecture['id']}"
    expected = {
        "master.m3u8": "application/vnd.apple.mpegurl",
        "audio/index.m3u8": "application/vnd.apple.mpegurl",
        "audio/seg_00000.ts": "video/mp2t",
        "v360/seg_00000.ts": "video/mp2t",
        "opus/index.m3u8": "application/vnd.apple.mpegurl",
        "opus/init.mp4": "video/mp4",
        "opus/seg_00000.m4s": "video/mp4",
        "poster.jpg": "image/jpeg",
        "audio.m4a": "audio/mp4",
        "manifest.json": "application/json",
    }
    for name, content_type in expected.items():
        response = client.get(f"{base}/{name}", headers=auth("member"))
        assert response.status_code == 200 and response.headers["content-type"].startswith(content_type), name
    download = client.get(f"{base}/audio.m4a", headers=auth("member"))
    assert download.headers["content-disposition"] == f'attachment; filename="{lecture["id"]}.m4a"'


def test_range_requests(published) -> None:  # type: ignore[no-untyped-def]
    """Does a Range request get 206 with Content-Range, and an unsatisfiable one 416?"""
    client, lecture = published
    url = f"{PREFIX}/api/media/{lecture['id']}/audio.m4a"
    whole = client.get(url, headers=auth("member")).content
    part = client.get(url, headers=auth("member", Range="bytes=100-199"))
    assert part.status_code == 206 and part.content == whole[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole)}"
    tail = client.get(url, headers=auth("member", Range="bytes=-50"))
    assert tail.status_code == 206 and tail.content == whole[-50:]
    assert client.get(url, headers=auth("member", Range=f"bytes={len(whole) + 10}-")).status_code == 416


@pytest.mark.parametrize("segment", ["audio/seg_00000.ts", "opus/init.mp4", "opus/seg_00000.m4s"])
def test_segments_need_login_and_the_course_audience(published, segment: str) -> None:  # type: ignore[no-untyped-def]
    """Is a segment (AAC, or the Opus rendition's init segment and fragments) refused without login (401) and to
    a member outside the audience (404), even with a browser's Accept header?"""
    client, lecture = published
    url = f"{PREFIX}/api/media/{lecture['id']}/{segment}"
    assert client.get(url, headers={"Accept": "*/*"}).status_code == 401
    assert client.get(url, headers=auth("other_cell")).status_code == 404
    assert client.get(url, headers=auth("member_b")).status_code == 404
    assert client.get(url, headers=auth("committee")).status_code == 200  # commune A oversees cell A1
    assert client.get(f"{PREFIX}/api/lectures/{lecture['id']}", headers=auth("other_cell")).status_code == 404


@pytest.mark.parametrize(
    "path", ["..%2F..%2Fdiemcau.sqlite", "audio/..%2F..%2Fmaster.m3u8", "%2Fetc%2Fpasswd", ".staging", "audio/x.py"]
)
def test_no_path_traversal(published, path: str) -> None:  # type: ignore[no-untyped-def]
    """Is any path outside the lecture's media folder, or of a kind never served, a 404?"""
    client, lecture = published
    assert client.get(f"{PREFIX}/api/media/{lecture['id']}/{path}", headers=auth("admin")).status_code == 404


def test_media_auth_names_the_file_for_nginx(published) -> None:  # type: ignore[no-untyped-def]
    """Does the auth_request endpoint allow a member and name the file nginx should send?"""
    client, lecture = published
    response = client.get(f"{PREFIX}/api/media-auth/{lecture['id']}/v240/index.m3u8", headers=auth("member"))
    assert response.status_code == 204
    sha256, _, name = response.headers["x-media-file"].partition("/")
    assert len(sha256) == 64 and name == "v240/index.m3u8"


def test_bad_upload_is_refused_leaving_nothing(api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Is an upload that is not media refused with the Vietnamese reason, leaving no lecture and no files?"""
    client, settings, factory = api
    bad = tmp_path / "ghi-chu.mp4"
    bad.write_text("không phải video\n" * 50, encoding="utf-8")
    response = upload(client, bad)
    assert response.status_code == 422 and response.json()["detail"] == t("media.not_media")
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(LectureRow)) == 0
    leftovers = [p for d in ("media", "jobs/ingest", "jobs/uploads") for p in (settings.home / d).rglob("*")]
    assert leftovers == []


def test_processing_lecture_is_for_staff_only(api, video: Path) -> None:  # type: ignore[no-untyped-def]
    """While a lecture is processing, does the trainer see its stage and members not see it at all?"""
    client, settings, factory = api
    lecture = upload(client, video).json()
    assert lecture["status"] == "processing" and lecture["stage"] == "probe"
    assert client.get(f"{PREFIX}/api/lectures/{lecture['id']}", headers=auth("member")).status_code == 404
    assert client.get(f"{PREFIX}/api/lectures", headers=auth("member")).json() == []
    run_jobs(settings, factory, lecture["id"])
    assert client.get(f"{PREFIX}/api/lectures/{lecture['id']}", headers=auth("member")).status_code == 200


@pytest.fixture
def url_api(tmp_path: Path) -> tuple[TestClient, Settings, sessionmaker[Session]]:
    """A fresh API whose publish-by-URL may reach private networks (the test's media server is on loopback)."""
    return make_api(tmp_path, DIEMCAU_MEDIA__FETCH_PRIVATE_NETWORKS="true")


@pytest.fixture
def web(video: Path) -> Iterator[str]:
    """A local HTTP server serving the test video's folder."""
    handler = functools.partial(_QuietHandler, directory=str(video.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def test_publish_from_url_through_the_api(url_api, web: str) -> None:  # type: ignore[no-untyped-def]
    """Does a URL publish queue at once (202), become ready once the jobs ran, and a second post of the
    same URL give back the same lecture (200)?"""
    client, settings, factory = url_api
    body = {
        "course_id": "nq-cb-a1",
        "title": "Bài giảng từ đường dẫn",
        "url": f"{web}/bai-giang.mp4",
        "transcribe": False,
    }
    first = client.post(f"{PREFIX}/api/lectures", json=body, headers=auth("trainer"))
    assert first.status_code == 202 and first.json()["status"] == "processing"
    again = client.post(f"{PREFIX}/api/lectures", json=body, headers=auth("admin"))
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    run_jobs(settings, factory, first.json()["id"])
    lecture = client.get(f"{PREFIX}/api/lectures/{first.json()['id']}", headers=auth("member")).json()
    assert lecture["status"] == "ready" and lecture["transcript"] == "skipped"


def test_url_error_shows_in_the_job_for_the_trainer(url_api, web: str) -> None:  # type: ignore[no-untyped-def]
    """Does a URL that turns out missing leave no lecture, but tell the trainer why?"""
    client, settings, factory = url_api
    url = f"{web}/khong-co.mp4"
    body = {"course_id": "nq-cb-a1", "title": "Bài giảng", "url": url}
    lecture_id = client.post(f"{PREFIX}/api/lectures", json=body, headers=auth("trainer")).json()["id"]
    run_jobs(settings, factory, lecture_id)
    failed = client.get(f"{PREFIX}/api/lectures/{lecture_id}", headers=auth("trainer")).json()
    assert failed["status"] == "failed" and failed["error"] == t("media.url_not_found", url=url)
    assert client.get(f"{PREFIX}/api/lectures", headers=auth("trainer")).json() == []
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(LectureRow)) == 0


def test_internal_address_is_refused_in_vietnamese(api, web: str) -> None:  # type: ignore[no-untyped-def]
    """With the default settings, is a URL on the platform's own loopback (where the hub's and the proxy's APIs
    listen) refused with the one Vietnamese message — no status code, no exception text?"""
    client, settings, factory = api
    assert settings.media.fetch_private_networks is False
    url = f"{web}/bai-giang.mp4"
    body = {"course_id": "nq-cb-a1", "title": "Bài giảng", "url": url, "transcribe": False}
    lecture_id = client.post(f"{PREFIX}/api/lectures", json=body, headers=auth("trainer")).json()["id"]
    run_jobs(settings, factory, lecture_id)
    failed = client.get(f"{PREFIX}/api/lectures/{lecture_id}", headers=auth("trainer")).json()
    assert failed["status"] == "failed" and failed["error"] == t("media.url_unreachable", url=url)
    said = failed["error"].replace(url, "")  # the URL is echoed, and its random port may hold any digits
    assert "Error" not in said and "403" not in said
