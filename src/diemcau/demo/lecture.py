"""The demo lecture: Vietnamese speech synthesised with espeak-ng, muxed into a small video with ffmpeg.

The platform ships no recorded media, so the demo makes its own: a ~45 s talk about studying a resolution,
spoken by espeak-ng's Vietnamese voice over a plain 360p picture. Synthetic speech is hard for Whisper base,
which makes the demo transcript honest about what the default model can do.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

TEXT_FILE = Path(__file__).with_name("lecture_vi.txt")
TITLE = "Quán triệt Nghị quyết 57-NQ/TW (bài giảng mẫu)"
SPEAKER = "Báo cáo viên mẫu (giọng tổng hợp)"


class DemoMediaError(RuntimeError):
    """espeak-ng or ffmpeg is missing or failed; the message says how to fix it."""


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise DemoMediaError(f"{command[0]} is not installed: run `bash scripts/ensure_system.sh demo`")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise DemoMediaError(f"{command[0]} failed: {result.stderr[-500:]}")


def synthesize_demo_lecture(out_dir: Path) -> Path:
    """Write ``demo-lecture.mp4`` into ``out_dir`` (idempotent: an existing file is reused)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / "demo-lecture.mp4"
    if video.exists():
        return video
    speech = out_dir / "demo-lecture.wav"
    _run(["espeak-ng", "-v", "vi", "-s", "150", "-f", str(TEXT_FILE), "-w", str(speech)])
    partial = out_dir / "demo-lecture.partial.mp4"
    _run([
        "ffmpeg", "-nostdin", "-y", "-loglevel", "error",
        "-f", "lavfi", "-i", "color=c=0x8a1c1c:s=640x360:r=25",
        "-i", str(speech),
        "-shortest", "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", str(partial),
    ])  # fmt: skip
    partial.replace(video)
    speech.unlink(missing_ok=True)
    return video
