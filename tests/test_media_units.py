"""The media rules without encoding: ladder planning, playlists, safe paths, sniffing, the store, and the
lecture records on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import lectures as db
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.lecture_reads import load_lecture, load_lectures, media_of
from diemcau.adapters.media_store import LocalMediaStore
from diemcau.core.lecture import is_valid_lecture_id, media_content_type, new_lecture_id, safe_media_path
from diemcau.jobs.ingest import DbRunLog
from diemcau.jobs.lease import LeaseLost, renewing
from diemcau.media.package import master_playlist
from diemcau.media.probe import clock, looks_like_media
from diemcau.media.transcode import plan_renditions, scaled_width
from diemcau.media.types import MediaInfo, Rendition
from tests.seed import seed_small_province


@pytest.mark.parametrize(
    ("height", "expected"),
    [
        (1080, ["audio", "opus", "v240", "v360", "v720"]),
        (720, ["audio", "opus", "v240", "v360", "v720"]),
        (480, ["audio", "opus", "v240", "v360"]),
        (240, ["audio", "opus", "v240"]),
        (144, ["audio", "opus", "v144"]),
        (0, ["audio", "opus"]),
    ],
)
def test_ladder_stops_at_the_source_height(height: int, expected: list[str]) -> None:
    """Is the ladder capped at the source's height, with audio-only (AAC, then Opus) always first?"""
    info = MediaInfo(60.0, has_video=height > 0, width=height * 16 // 9, height=height)
    assert [spec.name for spec in plan_renditions(info)] == expected


def test_scaled_width_is_even() -> None:
    """Does a 4:3 source scaled to 240 lines get the even width ffmpeg's scale=-2 gives?"""
    assert scaled_width(MediaInfo(1.0, True, 640, 480), 240) == 320
    assert scaled_width(MediaInfo(1.0, True, 1280, 720), 360) == 640


def test_master_playlist_lists_video_lowest_first_then_audio() -> None:
    """Does the master list the video ladder by bandwidth, then the AAC audio-only variant without RESOLUTION —
    and leave the Opus rendition (fMP4, chosen by the player) out, so the master stays version 3 for older
    Apple players?"""

    def rendition(name: str, height: int, bandwidth: int) -> Rendition:
        codecs = "mp4a.40.2" if not height else "avc1.4d401e,mp4a.40.2"
        return Rendition(
            name, name, f"{name}/index.m3u8", bandwidth, bandwidth - 10, height * 16 // 9, height, codecs, 1
        )

    opus = Rendition("opus", "Opus", "opus/index.m3u8", 18000, 17000, 0, 0, "opus", 1)
    text = master_playlist(
        [rendition("audio", 0, 52000), opus, rendition("v360", 360, 700000), rendition("v240", 240, 320000)]
    )
    lines = text.splitlines()
    assert [line for line in lines if not line.startswith("#")] == [
        "v240/index.m3u8",
        "v360/index.m3u8",
        "audio/index.m3u8",
    ]
    assert lines[-2] == '#EXT-X-STREAM-INF:BANDWIDTH=52000,AVERAGE-BANDWIDTH=51990,CODECS="mp4a.40.2"'
    assert "opus" not in text and lines[1] == "#EXT-X-VERSION:3"


@pytest.mark.parametrize(
    ("path", "safe"),
    [
        ("master.m3u8", True),
        ("v240/seg_00001.ts", True),
        ("audio.m4a", True),
        ("poster.jpg", True),
        ("../x.m3u8", False),
        ("a/../b.ts", False),
        ("/etc/passwd", False),
        (".staging/x.ts", False),
        ("a/b/c.ts", False),
        ("v240/", False),
        ("run.py", False),
        ("", False),
        ("v240\\..\\x.ts", False),
    ],
)
def test_safe_media_path(path: str, safe: bool) -> None:
    """Are only plain names (one folder deep) of served kinds accepted?"""
    assert (safe_media_path(path) is not None) is safe


def test_content_types_and_ids() -> None:
    """Do media names map to the types players expect, and are new lecture ids valid and distinct?"""
    assert media_content_type("index.m3u8") == "application/vnd.apple.mpegurl"
    assert media_content_type("seg_00000.ts") == "video/mp2t" and media_content_type("x.exe") is None
    ids = {new_lecture_id() for _ in range(200)}
    assert len(ids) == 200 and all(is_valid_lecture_id(i) and i[0] != "-" for i in ids)


def test_sniffing_tells_damaged_media_from_other_files() -> None:
    """Do container signatures mark a file as media (so a failed probe means damage, not a wrong file)?"""
    assert looks_like_media(b"\x00\x00\x00\x20ftypisom" + bytes(20))
    assert looks_like_media(b"ID3\x04\x00") and looks_like_media(b"\x1a\x45\xdf\xa3\x01")
    assert not looks_like_media("Đây là ghi chú".encode()) and not looks_like_media(b"<html>")
    assert clock(3725.4) == "1:02:05"


def test_store_publishes_whole_folders_only(tmp_path: Path) -> None:
    """Does ``put`` make a folder appear at once, keep the first copy on a second put, and refuse bad names?"""
    store = LocalMediaStore(tmp_path / "media")
    sha = "c" * 64
    for copy in ("one", "two"):
        folder = tmp_path / copy
        folder.mkdir()
        (folder / "master.m3u8").write_text(copy)
        store.put(sha, folder)
        assert not folder.exists()
    assert store.has(sha) and store.local_path(sha, "master.m3u8").read_text() == "one"  # type: ignore[union-attr]
    assert store.local_path(sha, "../x.m3u8") is None and sorted(p.name for p in (tmp_path / "media").iterdir()) == [
        sha
    ]
    with pytest.raises(ValueError):
        store.has("../etc")
    store.remove(sha)
    assert not store.has(sha)


def test_run_lifecycle_on_both_databases(session_factory: sessionmaker[Session]) -> None:
    """On SQLite and PostgreSQL: does a run stay invisible to members until probed, claim once, checkpoint,
    and finish as a ready lecture found again by its sha256?"""
    seed_small_province(session_factory)
    request = db.PublishRequest("/tmp/bai.mp4", "nq-cb-a1", "Bài 1", transcribe=False)
    with transaction(session_factory) as session:
        db.create_run(session, "run1", "lecABC123", request)
    assert load_lecture(session_factory, "lecABC123") is None
    assert load_lecture(session_factory, "lecABC123", pending=True).status == "processing"  # type: ignore[union-attr]
    assert db.claim_run(session_factory, "run1", "host:1", lambda run: False)
    assert not db.claim_run(session_factory, "run1", "host:2", lambda run: False)  # held by a live worker
    assert db.claim_run(session_factory, "run1", "host:2", lambda run: True)  # taken over from a dead one
    log = DbRunLog(session_factory, "run1")
    log.started("fetch")
    log.finished("fetch", {"path": "/x", "sha256": "d" * 64, "size_bytes": 1, "title": ""})
    log.finished("probe", {"duration_seconds": 4.0, "has_video": False, "width": 0, "height": 0})
    log.progress("probe", 12.5)
    assert set(log.checkpoints()) == {"fetch", "probe"}
    assert media_of(session_factory, "lecABC123") == ("nq-cb-a1", "processing", "d" * 64)
    db.finish_run(session_factory, "run1", "skipped")
    [record] = load_lectures(session_factory, {"nq-cb-a1"}, pending=True)
    assert (record.status, record.progress, record.stage, record.duration_seconds) == ("ready", 100.0, "done", 4.0)
    with session_factory() as session:
        assert db.existing_lecture(session, "nq-cb-a1", sha256="d" * 64) == "lecABC123"
        assert db.existing_lecture(session, "nq-tinh", sha256="d" * 64) is None


def test_an_ingest_owner_that_lost_its_run_stops_at_its_next_step(session_factory: sessionmaker[Session]) -> None:
    """When another worker took a run over (this owner stalled past the expiry), does this owner's next heartbeat
    find out, and does its next pipeline step stop (``LeaseLost``) instead of writing?"""
    seed_small_province(session_factory)
    request = db.PublishRequest("/tmp/bai.mp4", "nq-cb-a1", "Bài 1", transcribe=False)
    with transaction(session_factory) as session:
        db.create_run(session, "run1", "lecABC123", request)
    assert db.claim_run(session_factory, "run1", "host-a:1", lambda run: False)
    lost = threading.Event()
    log = DbRunLog(session_factory, "run1", lost)
    with renewing(lambda: db.beat(session_factory, "run1", "host-a:1"), 0.05, "beat-run1", lost):
        log.started("fetch")  # still the owner: recorded
        assert db.claim_run(session_factory, "run1", "host-b:2", lambda run: True)  # B takes it over
        assert lost.wait(30), "the next heartbeat finds the run taken over"
        with pytest.raises(LeaseLost):
            log.progress("fetch", 50.0)
        with pytest.raises(LeaseLost):
            log.finished("fetch", {"path": "/x", "sha256": "d" * 64, "size_bytes": 1, "title": ""})
    assert log.checkpoints() == {} and db.load_run(session_factory, "run1").owner == "host-b:2"


def test_a_holder_that_cannot_renew_for_a_whole_lease_counts_it_lost() -> None:
    """When every renewal fails (the database unreachable from this holder, or locked), does the holder count its
    lease lost once a whole lease has passed unconfirmed, rather than work on as if it still held it? And does a
    renewal that keeps succeeding never count it lost?"""

    def unreachable() -> bool:
        raise OSError("database unreachable")

    lost, kept = threading.Event(), threading.Event()
    with renewing(unreachable, 0.02, "beat-unreachable", lost, lost_after=0.2):
        assert lost.wait(30), "a lease unconfirmed for lost_after seconds is lost"
    with renewing(lambda: True, 0.02, "beat-fine", kept, lost_after=0.2):
        assert not kept.wait(0.5)


def test_an_ingest_whose_heartbeats_fail_for_a_whole_stale_period_stops_as_lost(
    sqlite_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest worker cut off from the database (every heartbeat fails) in a long stage: once
    ``media.stale_after_seconds`` pass, another worker may have taken the run over, so does this one stop at its
    next step and report the run lost, instead of encoding on?"""
    from diemcau.jobs import ingest
    from diemcau.jobs.context import WorkerContext
    from diemcau.settings import load_settings
    from tests.data_dirs import data_dir_environ

    settings = load_settings(data_dir_environ(tmp_path, DIEMCAU_MEDIA__STALE_AFTER_SECONDS="5"))
    request = db.PublishRequest("/tmp/bai.mp4", "nq-cb-a1", "Bài 1", transcribe=False)
    with transaction(sqlite_factory) as session:
        db.create_run(session, "run1", "lecABC123", request)

    def unreachable(*args: object) -> bool:
        raise OSError("database unreachable")

    steps: list[float] = []

    def long_stage(ctx: object, log: DbRunLog) -> None:
        for _ in range(600):  # a minute of steps at most; the lease is counted lost after five seconds
            log.progress("transcode", float(len(steps)))
            steps.append(time.monotonic())
            time.sleep(0.1)

    monkeypatch.setattr(ingest, "HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(ingest.db, "beat", unreachable)
    monkeypatch.setattr(ingest, "run_pipeline", long_stage)
    started = time.monotonic()
    assert ingest.execute_run(WorkerContext(settings, sqlite_factory), "run1") == "lost"
    assert len(steps) < 600 and time.monotonic() - started >= 5, "stopped once a stale period passed unconfirmed"


def test_audio_starts_with_short_segments_then_steady_ones() -> None:
    """Are the audio-only cuts 1 s, 3 s, then every 4 s, never at or past the end?"""
    from diemcau.media.transcode import AUDIO, audio_cut_times

    assert audio_cut_times(AUDIO, 20.0) == [1, 3, 7, 11, 15, 19]
    assert audio_cut_times(AUDIO, 2.5) == [1]
    assert audio_cut_times(AUDIO, 0.8) == []


def test_the_audio_rendition_is_a_vod_playlist_with_a_short_first_segment(tmp_path: Path) -> None:
    """Does real ffmpeg give the audio-only playlist VOD tags and segments of about 1, 2, then 4 seconds?"""
    from diemcau.media.transcode import AUDIO, PLAYLIST, segment_list, transcode
    from tests.media_fixtures import make_video

    source = make_video(tmp_path / "talk.mp4", seconds=12.0)
    rendition = transcode(source, MediaInfo(12.0, True, 426, 240), AUDIO, tmp_path / "out")
    playlist = tmp_path / "out" / "audio" / PLAYLIST
    text = playlist.read_text(encoding="utf-8")
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and text.rstrip().endswith("#EXT-X-ENDLIST")
    lengths = [round(seconds) for seconds, _ in segment_list(playlist)]
    assert lengths[:3] == [1, 2, 4] and abs(sum(s for s, _ in segment_list(playlist)) - 12.0) < 0.3
    assert rendition.bytes == sum(
        (tmp_path / "out" / "audio" / name).stat().st_size for _, name in segment_list(playlist)
    )
