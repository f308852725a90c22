"""Stage 5, poster: the still a player shows before pressing play (``poster.jpg``, at most 720 lines).

A video gives a frame from early on (past any black lead-in); a talk without video gives a picture of its
waveform, so the page never shows an empty box.
"""

from __future__ import annotations

from pathlib import Path

from diemcau.media.ffmpeg import Progress, no_progress, run_ffmpeg
from diemcau.media.types import MediaInfo

POSTER = "poster.jpg"
WAVEFORM_SECONDS = 600  # enough of a long talk to draw its shape, without decoding all of it


def poster_time(duration: float) -> float:
    """When to take the frame: 10% in, but no later than 5 s (pure)."""
    return round(min(5.0, duration * 0.1), 3)


def make_poster(source: Path, info: MediaInfo, out_dir: Path, progress: Progress = no_progress) -> Path:
    """Write ``out_dir/poster.jpg`` for ``source``."""
    target = out_dir / POSTER
    if info.has_video:
        args = [
            "-ss",
            str(poster_time(info.duration_seconds)),
            "-i",
            str(source),
            "-map",
            "0:v:0",
            "-vf",
            "scale=-2:'min(720,ih)'",
        ]
    else:
        args = [
            "-t",
            str(WAVEFORM_SECONDS),
            "-i",
            str(source),
            "-filter_complex",
            "[0:a:0]showwavespic=s=1280x720:colors=0xb71c1c",
        ]
    run_ffmpeg([*args, "-frames:v", "1", "-q:v", "4", "-update", "1", str(target)], 0.0, progress)
    return target
