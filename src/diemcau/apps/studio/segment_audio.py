"""Exactly one segment's audio, for the trainer to hear what Whisper heard.

``st.audio`` only seeks to whole seconds, so the segment is cut from the lecture's ``audio.m4a`` (fetched once
through the API and kept in a temporary folder of this studio process) by ffmpeg, to the millisecond, as a
small WAV. Without ffmpeg the whole file is played from the segment's second instead.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from diemcau.apps.studio.client import StudioClient

SAMPLE_RATE = 22050  # speech; a 10 s segment is ~440 KB of WAV
_FOLDER = Path(tempfile.mkdtemp(prefix="diemcau-studio-"))


def media_path(lecture: dict) -> str | None:
    """The m4a's path under ``/api/media/{id}/`` (from the lecture's ``media.audio_file`` link), if ready."""
    media = lecture.get("media") or {}
    link = media.get("audio_file") or ""
    marker = f"/api/media/{lecture['id']}/"
    return link.split(marker, 1)[1] if marker in link else None


def lecture_audio(api: StudioClient, lecture: dict) -> Path | None:
    """The lecture's m4a on local disk, fetched through the API the first time."""
    path = media_path(lecture)
    if path is None:
        return None
    local = _FOLDER / f"{lecture['id']}.m4a"
    if not local.exists():
        partial = local.with_suffix(".part")
        partial.write_bytes(api.media_bytes(lecture["id"], path))
        partial.replace(local)
    return local


def has_ffmpeg() -> bool:
    """Can segments be cut exactly here?"""
    return shutil.which("ffmpeg") is not None


def segment_wav(audio: Path, start: float, end: float) -> bytes:
    """The audio between ``start`` and ``end`` seconds as mono WAV bytes."""
    command = [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-ss",
        f"{start:.3f}",
        "-i",
        str(audio),
        "-t",
        f"{max(0.0, end - start):.3f}",
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-f",
        "wav",
        "pipe:1",
    ]
    return subprocess.run(command, check=True, capture_output=True, timeout=60).stdout
