"""Publishing lectures with the real CLI, real ffmpeg and real yt-dlp, on a bare data directory.

No worker runs here, so ``--wait`` runs the jobs in-process — as ``make demo`` will.
"""

from __future__ import annotations

import functools
import json
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from diemcau.adapters.db.engine import make_engine, make_sessionmaker
from diemcau.adapters.db.models import JobRow, LectureRow
from diemcau.adapters.db.models_media import IngestRunRow, LectureMediaRow
from diemcau.apps.cli import app
from diemcau.i18n import t
from diemcau.jobs.ingest import transcriber
from tests.data_dirs import data_dir_environ
from tests.media_fixtures import ffmpeg, make_speech, make_video


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Good and bad sources, generated once for the module."""
    root = tmp_path_factory.mktemp("clips")
    video = make_video(root / "video.mp4", seconds=3.0)
    faststart = root / "faststart.mp4"
    ffmpeg("-i", str(video), "-c", "copy", "-movflags", "+faststart", str(faststart))
    data = video.read_bytes()
    (root / "truncated.mp4").write_bytes(data[: len(data) // 2])
    fast = faststart.read_bytes()
    (root / "truncated_faststart.mp4").write_bytes(fast[: len(fast) * 2 // 3])
    (root / "empty.mp4").write_bytes(b"")
    (root / "notes.mp4").write_text("Đây là ghi chú, không phải video.\n" * 20, encoding="utf-8")
    (root / "page.html").write_text("<html><body><p>Không có video ở đây</p></body></html>", encoding="utf-8")
    make_video(root / "silent.mp4", seconds=2.0, audio=False)
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=8", "-ac", "2", str(root / "big.wav"))  # ~1.4 MiB
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=500:duration=0.01", "-t", "0", "-c:a", "aac", str(root / "zero.m4a"))
    make_speech(root / "speech.m4a")
    return {path.name: path for path in root.iterdir()}


@pytest.fixture(scope="module")
def web(clips: dict[str, Path]) -> Iterator[str]:
    """A local HTTP server in a thread, serving the clips folder."""
    folder = next(iter(clips.values())).parent
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves the folder and records what was asked (``hits``); anything under ``/down/`` answers 503, like a
    server in trouble, and anything under ``/reset/`` gets its connection reset."""

    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        if self.path.startswith("/down/"):
            self.send_error(503)
            return
        if self.path.startswith("/reset/"):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A bare data directory with one course; publish-by-URL may reach private networks (the test server is on
    loopback)."""
    environ = data_dir_environ(
        tmp_path,
        DIEMCAU_MEDIA__MAX_SIZE_MB="1",
        DIEMCAU_MEDIA__MAX_DURATION_SECONDS="60",
        DIEMCAU_MEDIA__FETCH_PRIVATE_NETWORKS="true",
    )
    invoke(environ, "course", "create", "nq1", "--title", "Nghị quyết 1")
    invoke(environ, "course", "create", "nq2", "--title", "Nghị quyết 2")
    return environ


def invoke(env: dict[str, str], *args: str, code: int = 0) -> Result:
    """Run the CLI and check its exit code."""
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def publish(env: dict[str, str], source: str, *extra: str, code: int = 0, course: str = "nq1") -> dict:
    """``lecture publish SOURCE --wait --json``; returns the JSON of its last line."""
    args = ["lecture", "publish", source, "--course", course, "--title", "Bài giảng", "--wait", "--json", *extra]
    result = invoke(env, *args, code=code)
    return json.loads(result.stdout.strip().splitlines()[-1])


def media_root(env: dict[str, str]) -> Path:
    return Path(env["DIEMCAU_HOME"]) / "media"


def counts(env: dict[str, str]) -> tuple[int, int]:
    """(lecture rows, lecture media rows) in the data directory's database."""
    engine = make_engine(f"sqlite:///{Path(env['DIEMCAU_HOME']) / 'diemcau.sqlite'}")
    try:
        with make_sessionmaker(engine)() as session:
            lectures = session.scalar(select(func.count()).select_from(LectureRow))
            media = session.scalar(select(func.count()).select_from(LectureMediaRow))
            return lectures or 0, media or 0
    finally:
        engine.dispose()


def stage_runs(env: dict[str, str]) -> list[dict]:
    """Each ingest run's count of stage starts."""
    engine = make_engine(f"sqlite:///{Path(env['DIEMCAU_HOME']) / 'diemcau.sqlite'}")
    try:
        with make_sessionmaker(engine)() as session:
            return [run.stage_runs for run in session.scalars(select(IngestRunRow).order_by(IngestRunRow.created_at))]
    finally:
        engine.dispose()


def stray_files(env: dict[str, str]) -> list[Path]:
    """Files left in the media store or in ingest work folders."""
    home = Path(env["DIEMCAU_HOME"])
    return [p for folder in (home / "media", home / "jobs" / "ingest") if folder.exists() for p in folder.rglob("*")]


def duration_of(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout)


def test_publish_local_video_makes_every_rendition(env: dict[str, str], clips: dict[str, Path]) -> None:
    """Does a local video become a ready lecture with audio-only, a ladder capped at 240p, poster and m4a?"""
    lecture = publish(env, str(clips["video.mp4"]), "--no-transcribe")
    assert lecture["status"] == "ready" and lecture["transcript"] == "skipped"
    folder = media_root(env) / lecture["sha256"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "audio",
        "audio.m4a",
        "manifest.json",
        "master.m3u8",
        "opus",
        "poster.jpg",
        "v240",
    ]
    master = (folder / "master.m3u8").read_text()
    assert master.index("v240/index.m3u8") < master.index("audio/index.m3u8")
    assert 'CODECS="mp4a.40.2"\naudio/index.m3u8' in master and "RESOLUTION=426x240" in master
    assert abs(duration_of(folder / "audio.m4a") - 3.0) < 0.2
    assert (folder / "poster.jpg").read_bytes()[:2] == b"\xff\xd8"
    audio = (folder / "audio" / "index.m3u8").read_text()
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in audio and audio.rstrip().endswith("#EXT-X-ENDLIST")
    assert counts(env) == (1, 1) and not list((Path(env["DIEMCAU_HOME"]) / "jobs" / "ingest").iterdir())


def opus_rates(init: bytes) -> tuple[int, int]:
    """The sample rate of an fMP4 init segment's ``Opus`` sample entry (16.16 fixed point, after 6 reserved bytes,
    the data reference, 8 reserved, channels, sample size and 4 more) and its ``dOps`` box's input sample rate."""
    entry, dops = init.index(b"Opus") + 4, init.index(b"dOps") + 4
    return struct.unpack(">I", init[entry + 24 : entry + 28])[0] >> 16, struct.unpack(">I", init[dops + 4 : dops + 8])[
        0
    ]


def test_publish_speech_without_video(env: dict[str, str], clips: dict[str, Path], tmp_path: Path) -> None:
    """Does a talk without video get the audio-only renditions (AAC, and Opus in fragmented MP4 — an init
    segment, then moof fragments ffprobe reads as mono 48 kHz ``opus``), an m4a and a waveform poster only?"""
    lecture = publish(env, str(clips["speech.m4a"]), "--no-transcribe")
    folder = media_root(env) / lecture["sha256"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [r["name"] for r in manifest["renditions"]] == ["audio", "opus"] and manifest["has_video"] is False
    assert 30_000 < manifest["renditions"][0]["average_bandwidth"] < 70_000
    opus = manifest["renditions"][1]
    assert manifest["opus_playlist"] == "opus/index.m3u8" and opus["codecs"] == "opus"
    assert 8_000 < opus["average_bandwidth"] < 26_000, opus  # 20 kbps asked for, a third of AAC's bytes
    playlist = (folder / "opus" / "index.m3u8").read_text()
    assert '#EXT-X-MAP:URI="init.mp4"' in playlist and playlist.rstrip().endswith("#EXT-X-ENDLIST")
    first = folder / "opus" / "seg_00000.m4s"
    assert b"moof" in first.read_bytes()[:200]
    joined = tmp_path / "first.mp4"  # what a player appends: the init segment, then a fragment
    joined.write_bytes((folder / "opus" / "init.mp4").read_bytes() + first.read_bytes())
    probed = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,channels:format=format_name", "-of", "json"]
        + [str(joined)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(probed.stdout)
    assert found["streams"] == [{"codec_name": "opus", "channels": 1}] and "mp4" in found["format"]["format_name"]
    # Encoded at 48 kHz whatever the source's rate (espeak-ng's is 22.05 kHz): Chromium refuses an init segment
    # whose sample entry (always 48 kHz) and OpusSpecificBox disagree, and plays nothing
    assert opus_rates((folder / "opus" / "init.mp4").read_bytes()) == (48000, 48000)
    assert "opus" not in (folder / "master.m3u8").read_text()  # the player chooses it, like AAC Chỉ nghe


@pytest.mark.skipif(transcriber() is None, reason="no transcribe_lecture task registered")
def test_wait_includes_the_transcription(env: dict[str, str], clips: dict[str, Path]) -> None:
    """Without --no-transcribe, is the transcription queued after ingest, does --wait return only once its job is
    over, and does the lecture then say how it ended (it said 'queued' for ever)?"""
    lecture = publish(env, str(clips["speech.m4a"]))
    assert lecture["status"] == "ready" and lecture["transcript"] in ("ready", "failed")
    engine = make_engine(f"sqlite:///{Path(env['DIEMCAU_HOME']) / 'diemcau.sqlite'}")
    try:
        with make_sessionmaker(engine)() as session:
            jobs = {job.kind: job.status for job in session.scalars(select(JobRow))}
    finally:
        engine.dispose()
    assert jobs["ingest"] == "done" and len(jobs) == 2 and all(status in ("done", "failed") for status in jobs.values())
    assert lecture["transcript"] == {"done": "ready", "failed": "failed"}[jobs["transcribe"]]


def test_publish_from_url(env: dict[str, str], web: str) -> None:
    """Does a direct media link served over HTTP publish like a local file?"""
    lecture = publish(env, f"{web}/video.mp4", "--no-transcribe")
    assert lecture["status"] == "ready" and lecture["source"] == f"{web}/video.mp4"
    assert (media_root(env) / lecture["sha256"] / "master.m3u8").is_file()


def test_list_and_show(env: dict[str, str], clips: dict[str, Path]) -> None:
    """Do ``lecture list`` and ``lecture show`` report the lecture and its status, and ``show`` each rendition
    with its codec, average kbps and total bytes (init segment included)?"""
    lecture = publish(env, str(clips["speech.m4a"]), "--speaker", "Đồng chí Bí thư", "--no-transcribe")
    listed = json.loads(invoke(env, "lecture", "list", "--json").stdout)
    assert [(r["id"], r["status"], r["speaker"]) for r in listed] == [(lecture["id"], "ready", "Đồng chí Bí thư")]
    shown = invoke(env, "lecture", "show", lecture["id"]).stdout
    assert f"id: {lecture['id']}" in shown and "status: ready" in shown and "\topus\t" in shown
    renditions = json.loads(invoke(env, "lecture", "show", lecture["id"], "--json").stdout)["renditions"]
    assert [(r["name"], r["codec"]) for r in renditions] == [("audio", "mp4a.40.2"), ("opus", "opus")]
    folder = media_root(env) / lecture["sha256"]
    opus_bytes = sum(f.stat().st_size for f in (folder / "opus").iterdir() if f.suffix in (".mp4", ".m4s"))
    assert renditions[1]["bytes"] == opus_bytes and 8 < renditions[1]["kbps"] < 24 < renditions[0]["kbps"]
    invoke(env, "lecture", "show", "khongco123", code=1)


def test_list_shows_publishes_that_failed(env: dict[str, str], clips: dict[str, Path], web: str) -> None:
    """A URL that cannot be fetched fails in the background, before any lecture row exists: does ``lecture list``
    still show it, failed and with its reason, beside a ready lecture whose ``--json`` transcript state is not
    "queued", and does trying the same URL again show one failure, not two?"""
    ready = publish(env, str(clips["speech.m4a"]), "--no-transcribe")
    url = f"{web}/missing.mp4"
    first = publish(env, url, code=1)
    again = publish(env, url, code=1)
    listed = json.loads(invoke(env, "lecture", "list", "--json").stdout)
    assert [(r["id"], r["status"]) for r in listed] == [(ready["id"], "ready"), (again["id"], "failed")]
    assert first["id"] != again["id"] and listed[1]["error"] == t("media.url_not_found", url=url)
    assert listed[0]["transcript"] != "queued"
    table = invoke(env, "lecture", "list").stdout
    assert f"{again['id']}\tfailed\tnq1" in table and first["id"] not in table


def test_republishing_the_same_file_reuses_the_media(env: dict[str, str], clips: dict[str, Path]) -> None:
    """Does publishing the same bytes again give back the lecture, and another course reuse the media, with
    one transcode in all?"""
    first = publish(env, str(clips["video.mp4"]), "--no-transcribe")
    again = publish(env, str(clips["video.mp4"]), "--no-transcribe")
    assert again["id"] == first["id"] and again["existing"] is True
    other = publish(env, str(clips["video.mp4"]), "--no-transcribe", course="nq2")
    assert other["id"] != first["id"] and other["sha256"] == first["sha256"] and other["status"] == "ready"
    runs = stage_runs(env)
    assert len(runs) == 2 and runs[0]["rendition:audio"] == 1 and "rendition:audio" not in runs[1]
    assert [p.name for p in media_root(env).iterdir() if not p.name.startswith(".")] == [first["sha256"]]


BAD_FILES = [
    ("empty.mp4", "empty"),
    ("notes.mp4", "not_media"),
    ("page.html", "not_media"),
    ("truncated.mp4", "corrupt"),
    ("truncated_faststart.mp4", "corrupt"),
    ("silent.mp4", "no_audio"),
    ("zero.m4a", "zero_length"),
    ("big.wav", "too_large"),
]


@pytest.mark.parametrize(("name", "code"), BAD_FILES)
def test_bad_file_is_refused_leaving_nothing(env: dict[str, str], clips: dict[str, Path], name: str, code: str) -> None:
    """Is each bad source refused with its own Vietnamese message, with no lecture row and no stray files?"""
    result = publish(env, str(clips[name]), code=1)
    params = {"size_mb": round(clips[name].stat().st_size / 2**20, 1), "max_mb": 1} if code == "too_large" else {}
    assert result["status"] == "failed" and result["error"] == t(f"media.{code}", **params)
    assert counts(env) == (0, 0) and stray_files(env) == []


def test_over_the_duration_limit_is_refused(env: dict[str, str], clips: dict[str, Path]) -> None:
    """Is a lecture longer than ``media.max_duration_seconds`` refused, saying how long it is and the limit?"""
    result = publish(env | {"DIEMCAU_MEDIA__MAX_DURATION_SECONDS": "2"}, str(clips["video.mp4"]), code=1)
    assert result["error"] == t("media.too_long", duration="0:00:03", limit="0:00:02")
    assert counts(env) == (0, 0) and stray_files(env) == []


@pytest.mark.parametrize(
    ("name", "code"), [("missing.mp4", "url_not_found"), ("page.html", "url_not_media"), ("notes.mp4", "not_media")]
)
def test_bad_url_is_refused_leaving_nothing(env: dict[str, str], web: str, name: str, code: str) -> None:
    """Is a URL that is missing, not media, or serves a non-media file refused clearly, leaving nothing?"""
    url = f"{web}/{name}"
    result = publish(env, url, code=1)
    assert result["status"] == "failed" and result["error"] == t(f"media.{code}", url=url)
    assert counts(env) == (0, 0) and stray_files(env) == []


def test_missing_file_and_unknown_course_are_refused(env: dict[str, str], clips: dict[str, Path]) -> None:
    """Are a missing file and an unknown course refused before anything starts?"""
    result = publish(env, "/khong/co/tep.mp4", code=1)
    assert result["error"] == t("media.file_not_found", path="/khong/co/tep.mp4")
    result = publish(env, str(clips["video.mp4"]), code=1, course="khong-co")
    assert result["error"] == t("media.course_not_found", course="khong-co")
    assert counts(env) == (0, 0) and stray_files(env) == []


def jobs_of(env: dict[str, str]) -> list[tuple[str, int]]:
    """(status, attempts) of every job in the data directory."""
    engine = make_engine(f"sqlite:///{Path(env['DIEMCAU_HOME']) / 'diemcau.sqlite'}")
    try:
        with make_sessionmaker(engine)() as session:
            return [(job.status, job.attempts) for job in session.scalars(select(JobRow))]
    finally:
        engine.dispose()


@pytest.mark.parametrize(("path", "code"), [("down", "url_unavailable"), ("reset", "url_unreachable")])
def test_transient_failure_is_retried_then_reported(env: dict[str, str], web: str, path: str, code: str) -> None:
    """Is a server error or a reset connection retried ``jobs.retries`` times before the lecture is refused
    with the reason?"""
    url = f"{web}/{path}/bai-giang.mp4"
    retrying = env | {"DIEMCAU_JOBS__RETRIES": "2", "DIEMCAU_MEDIA__RETRY_DELAY_SECONDS": "0"}
    result = publish(retrying, url, code=1)
    assert result["error"] == t(f"media.{code}", url=url, status=503)
    assert jobs_of(env) == [("failed", 3)]
    assert counts(env) == (0, 0) and stray_files(env) == []


@pytest.mark.parametrize(
    ("name", "code", "private"),
    [
        ("missing.mp4", "url_not_found", "true"),
        ("page.html", "url_not_media", "true"),
        ("video.mp4", "url_unreachable", "false"),
    ],
)
def test_permanent_fetch_error_is_not_retried(
    env: dict[str, str], web: str, name: str, code: str, private: str
) -> None:
    """Are a 404, a page that is not media and a refused address failed at the first attempt, not retried?"""
    url = f"{web}/{name}"
    retrying = env | {"DIEMCAU_JOBS__RETRIES": "2", "DIEMCAU_MEDIA__FETCH_PRIVATE_NETWORKS": private}
    result = publish(retrying, url, code=1)
    assert result["error"] == t(f"media.{code}", url=url)
    assert jobs_of(env) == [("failed", 1)]


def test_internal_addresses_are_refused_alike(env: dict[str, str], web: str) -> None:
    """With private networks closed (the default), does every loopback destination — a media file, a missing
    path, a web page, a database-like port that speaks no HTTP, a closed port — get the same message, and
    does none of them receive a single request (so publish-by-URL cannot scan the platform's network)?"""
    closed = env | {"DIEMCAU_MEDIA__FETCH_PRIVATE_NETWORKS": "false"}
    listener = socket.create_server(("127.0.0.1", 0))
    unused = socket.create_server(("127.0.0.1", 0))
    unused_port = unused.getsockname()[1]
    unused.close()
    _QuietHandler.hits.clear()
    urls = [
        f"{web}/video.mp4",
        f"{web}/missing.mp4",
        f"{web}/page.html",
        f"http://127.0.0.1:{listener.getsockname()[1]}/",
        f"http://localhost:{unused_port}/",
    ]
    try:
        for url in urls:
            assert publish(closed, url, code=1)["error"] == t("media.url_unreachable", url=url)
        listener.settimeout(0.01)
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing ever connected to it
    finally:
        listener.close()
    assert _QuietHandler.hits == [] and counts(env) == (0, 0) and stray_files(env) == []


def test_unexpected_failure_shows_no_exception_text(
    env: dict[str, str], clips: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """Does an unexpected failure (the store's staging folder is a file) tell the trainer, in Vietnamese, to ask
    an administrator — without the exception's text or a server path — while the log keeps the exception?"""
    root = media_root(env) / ".staging"
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_text("không phải thư mục")
    result = publish(env | {"DIEMCAU_JOBS__RETRIES": "0"}, str(clips["video.mp4"]), code=1)
    assert result["status"] == "failed" and result["error"] == t("media.internal")
    shown = invoke(env, "lecture", "show", result["id"]).output
    assert t("media.internal") in shown and "Errno" not in shown and str(root) not in shown
    assert any(record.exc_info and str(root) in str(record.exc_info[1]) for record in caplog.records)
