"""Media for tests: sources generated with ffmpeg (lavfi) and espeak-ng, and a lecture with media in the store.

Generated clips are a few seconds long and cached per test session, so the media tests stay quick.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.lectures import utcnow
from diemcau.adapters.db.models_media import LectureMediaRow
from diemcau.settings import Settings
from tests.transcript_fixtures import LECTURE_ID, seed_lecture

FAKE_SHA = "ab" * 32
SPEECH = "Kính thưa các đồng chí, hôm nay chúng ta học tập nghị quyết của Ban Chấp hành Trung ương."


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly, failing loudly."""
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def make_video(path: Path, seconds: float = 3.0, size: str = "426x240", audio: bool = True, tone: int = 440) -> Path:
    """A test-pattern video with a sine tone (``tone`` changes the bytes, so the sha256)."""
    inputs = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}"]
    if audio:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=44100:duration={seconds}"]
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"] + (["-c:a", "aac"] if audio else [])
    ffmpeg(*inputs, *codecs, "-shortest", str(path))
    return path


def make_long_video(path: Path, seconds: float, size: str = "1280x720", clip: float = 10.0) -> Path:
    """A long test-pattern video made quickly: ``clip`` seconds encoded once, repeated by stream copy (four
    minutes of 720p take ~1 s instead of ~25 s to encode on two cores)."""
    piece = make_video(path.with_name(f"{path.stem}-clip.mp4"), seconds=clip, size=size)
    ffmpeg("-stream_loop", str(max(0, round(seconds / clip) - 1)), "-i", str(piece), "-c", "copy", str(path))
    piece.unlink()
    return path


def make_speech(path: Path, text: str = SPEECH) -> Path:
    """Vietnamese speech from espeak-ng, as an m4a (an audio-only lecture)."""
    wav = path.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), text], check=True)
    ffmpeg("-i", str(wav), "-c:a", "aac", "-b:a", "64k", str(path))
    wav.unlink()
    return path


def seed_lecture_media(settings: Settings, factory: sessionmaker[Session], lecture_id: str = LECTURE_ID) -> str:
    """The seeded ready lecture of course nq-cb-a1, with a small (not encoded) media folder in the store."""
    seed_lecture(factory, lecture_id)
    folder = settings.media_dir / FAKE_SHA
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    (folder / "master.m3u8").write_text(
        '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=56000,CODECS="mp4a.40.2"\naudio/index.m3u8\n'
    )
    (folder / "audio" / "index.m3u8").write_text("#EXTM3U\n#EXTINF:4.0,\nseg_00000.ts\n#EXT-X-ENDLIST\n")
    (folder / "audio" / "seg_00000.ts").write_bytes(bytes(range(256)) * 40)
    manifest = {
        "sha256": FAKE_SHA,
        "duration_seconds": 4.0,
        "has_video": False,
        "master": "master.m3u8",
        "audio_playlist": "audio/index.m3u8",
        "audio_file": "audio.m4a",
        "poster": "poster.jpg",
        "renditions": [
            {
                "name": "audio",
                "label": "Chỉ nghe",
                "playlist": "audio/index.m3u8",
                "bandwidth": 56000,
                "average_bandwidth": 52000,
                "width": 0,
                "height": 0,
                "codecs": "mp4a.40.2",
                "bytes": 10240,
            }
        ],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with transaction(factory) as session:
        if session.get(LectureMediaRow, lecture_id) is None:
            session.add(LectureMediaRow(lecture_id=lecture_id, sha256=FAKE_SHA, source="test", created_at=utcnow()))
    return lecture_id
