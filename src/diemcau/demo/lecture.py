"""The demo lecture: Vietnamese speech synthesised with espeak-ng, muxed into a small video with ffmpeg, and
its reference captions.

The platform ships no recorded media, so the demo makes its own: a ~45 s talk about studying a resolution,
spoken by espeak-ng's Vietnamese voice over a plain 360p picture. Synthetic speech is hard for Whisper base
(its transcript of this talk is barely readable), so the demo also writes the talk's own text as WebVTT
captions, timed by the speech itself: each phrase is synthesised on its own and the phrases are joined, so
every cue starts and ends where its phrase does. ``seed.publish_demo_lecture`` imports these captions as the
lecture's transcript, the way a trainer imports corrected captions; Whisper's transcript is kept beside them
(``transcript.prev.json``).
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

from diemcau.core.captions import render_vtt
from diemcau.core.transcript import Segment, Transcript

TEXT_FILE = Path(__file__).with_name("lecture_vi.txt")
TITLE = "Quán triệt Nghị quyết 57-NQ/TW (bài giảng mẫu)"
SPEAKER = "Báo cáo viên mẫu (giọng tổng hợp)"
MIN_PHRASE_WORDS = 6  # clauses shorter than this join the next one: a cue of two words flashes by
VOICE = ("-v", "vi", "-s", "150")


class DemoMediaError(RuntimeError):
    """espeak-ng or ffmpeg is missing or failed; the message says how to fix it."""


@dataclass(frozen=True)
class DemoLecture:
    """The files of the demo lecture: the video to publish and its reference captions (WebVTT)."""

    video: Path
    captions: Path


def phrases(text: str, min_words: int = MIN_PHRASE_WORDS) -> list[str]:
    """The caption phrases of ``text``: each line (a sentence) cut after its commas, a clause shorter than
    ``min_words`` joined to the next one of its line (pure)."""
    result: list[str] = []
    for line in (line.strip() for line in text.splitlines()):
        pending = ""
        for clause in line.replace(", ", ",\n").splitlines():
            pending = f"{pending} {clause}".strip()
            if len(pending.split()) >= min_words:
                result.append(pending)
                pending = ""
        if pending:
            result.append(pending)
    return result


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise DemoMediaError(f"{command[0]} is not installed: run `bash scripts/ensure_system.sh demo`")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise DemoMediaError(f"{command[0]} failed: {result.stderr[-500:]}")


def _speak(texts: list[str], out_dir: Path, speech: Path) -> Transcript:
    """Synthesise each text on its own, join them into ``speech`` (WAV), and return the texts as segments
    timed where each one is spoken."""
    segments: list[Segment] = []
    frames = 0
    with wave.open(str(speech), "wb") as joined:
        for index, text in enumerate(texts):
            part = out_dir / f"demo-phrase-{index}.wav"
            _run(["espeak-ng", *VOICE, "-w", str(part), text])
            with wave.open(str(part), "rb") as piece:
                if index == 0:
                    joined.setparams(piece.getparams())
                rate = piece.getframerate()
                data = piece.readframes(piece.getnframes())
            part.unlink()
            count = len(data) // joined.getsampwidth()
            segments.append(Segment(index, round(frames / rate, 3), round((frames + count) / rate, 3), text))
            joined.writeframes(data)
            frames += count
    return Transcript("demo", "vi", tuple(segments), source="captions")


def synthesize_demo_lecture(out_dir: Path) -> DemoLecture:
    """Write ``demo-lecture.mp4`` and its captions ``demo-lecture.vtt`` into ``out_dir`` (idempotent: existing
    files are reused, so the video keeps its hash and publishing it again finds the same lecture)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lecture = DemoLecture(out_dir / "demo-lecture.mp4", out_dir / "demo-lecture.vtt")
    if lecture.video.exists() and lecture.captions.exists():
        return lecture
    speech = out_dir / "demo-lecture.wav"
    captions = _speak(phrases(TEXT_FILE.read_text(encoding="utf-8")), out_dir, speech)
    partial = out_dir / "demo-lecture.partial.mp4"
    _run(
        [
            "ffmpeg",
            "-nostdin",
            "-y",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=0x8a1c1c:s=640x360:r=25",
            "-i",
            str(speech),
            "-shortest",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "stillimage",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            "-movflags",
            "+faststart",
            str(partial),
        ]
    )
    lecture.captions.write_text(render_vtt(captions), encoding="utf-8")
    partial.replace(lecture.video)
    speech.unlink(missing_ok=True)
    return lecture
