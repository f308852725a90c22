"""Stage 4, audio file: the single-file download for offline listening (``audio.m4a``).

Remuxed from the audio-only rendition's segments, not encoded again, so it costs a file copy and sounds the
same as "Chỉ nghe". ``+faststart`` puts the index first, so a phone can play it while it still downloads.
"""

from __future__ import annotations

from pathlib import Path

from diemcau.media.ffmpeg import Progress, no_progress, run_ffmpeg
from diemcau.media.transcode import AUDIO, PLAYLIST

AUDIO_FILE = "audio.m4a"


def make_audio_file(out_dir: Path, duration: float, progress: Progress = no_progress) -> Path:
    """Write ``out_dir/audio.m4a`` from ``out_dir/audio/index.m3u8`` (the audio rendition must exist)."""
    target = out_dir / AUDIO_FILE
    playlist = out_dir / AUDIO.name / PLAYLIST
    args = ["-i", str(playlist), "-map", "0:a:0", "-c", "copy", "-bsf:a", "aac_adtstoasc"]
    run_ffmpeg([*args, "-movflags", "+faststart", "-f", "mp4", str(target)], duration, progress)
    return target
