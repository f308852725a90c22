"""Stage 2, probe: ffprobe describes the source, and nothing is stored unless it passes validation.

Refused, each with its own message: an empty file, something that is not media at all, a media file that is
corrupt or truncated, media without an audio stream, zero length, and a source over the configured duration.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from diemcau.media.errors import MediaError
from diemcau.media.ffmpeg import ffprobe_json
from diemcau.media.types import FetchedSource, Limits, MediaInfo

# Leading bytes of the containers we accept; ffprobe failing on one of these means damage, not a wrong file.
_SIGNATURES: tuple[tuple[int, bytes], ...] = (
    (4, b"ftyp"),
    (4, b"moov"),
    (4, b"mdat"),
    (4, b"free"),
    (4, b"wide"),  # MP4 / MOV / M4A
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska / WebM
    (0, b"RIFF"),
    (0, b"OggS"),
    (0, b"fLaC"),
    (0, b"ID3"),
    (0, b"FLV"),
    (0, b"#EXTM3U"),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"),  # ASF / WMV
    (0, b"\x00\x00\x01\xba"),  # MPEG program stream
)
_DAMAGE = re.compile(r"partial file|truncat|invalid data|corrupt|moov atom not found|error while decoding", re.I)
_NOT_A_CONTAINER = frozenset({"tty", "image2", "png_pipe", "jpeg_pipe", "svg_pipe", "txt", "subviewer"})


def looks_like_media(head: bytes) -> bool:
    """Do these leading bytes start a known media container (or an MPEG stream / transport stream)?"""
    if any(head[offset : offset + len(magic)] == magic for offset, magic in _SIGNATURES):
        return True
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # MPEG audio / ADTS frame sync
        return True
    return len(head) > 188 and head[0] == 0x47 and head[188] == 0x47  # MPEG-TS packets


def probe(source: FetchedSource, limits: Limits) -> MediaInfo:
    """Describe and validate ``source``; raises ``MediaError`` naming what is wrong with it."""
    path = source.path
    if source.size_bytes == 0 or path.stat().st_size == 0:
        raise MediaError("empty")
    code, data, stderr = ffprobe_json(path)
    if code != 0 or not data.get("format"):
        raise MediaError("corrupt" if _looks_damaged(path) else "not_media")
    info = media_info(data)
    validate(info, data, limits)
    if not check_integrity(path):
        raise MediaError("corrupt")
    return info


def _looks_damaged(path: Path) -> bool:
    with path.open("rb") as handle:
        return looks_like_media(handle.read(512))


def media_info(data: dict) -> MediaInfo:
    """The ``MediaInfo`` in ffprobe's JSON (pure)."""
    streams = data.get("streams", [])
    audio = next((s for s in streams if s.get("codec_type") == "audio"), {})
    video = next(
        (s for s in streams if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")),
        {},
    )
    duration = _duration(data, streams)
    return MediaInfo(
        duration_seconds=duration,
        has_video=bool(video),
        width=int(video.get("width") or 0),
        height=int(video.get("height") or 0),
        audio_codec=audio.get("codec_name", ""),
        video_codec=video.get("codec_name", ""),
        container=data.get("format", {}).get("format_name", ""),
    )


def _duration(data: dict, streams: list[dict]) -> float:
    candidates = [data.get("format", {}).get("duration")] + [s.get("duration") for s in streams]
    values = []
    for value in candidates:
        try:
            values.append(float(value))
        except (TypeError, ValueError):
            continue
    return max(values, default=0.0)


def validate(info: MediaInfo, data: dict, limits: Limits) -> None:
    """Refuse media a member could not listen to, or over the limits (pure)."""
    streams = data.get("streams", [])
    if data.get("format", {}).get("format_name") in _NOT_A_CONTAINER:
        raise MediaError("not_media")
    if info.duration_seconds <= 0.05:  # first: an empty container has no streams at all
        raise MediaError("zero_length")
    if not any(s.get("codec_type") == "audio" for s in streams):
        raise MediaError("no_audio")
    if info.duration_seconds > limits.max_duration_seconds:
        raise MediaError("too_long", duration=clock(info.duration_seconds), limit=clock(limits.max_duration_seconds))


def clock(seconds: float) -> str:
    """``3725.4`` → ``1:02:05`` (pure)."""
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def check_integrity(path: Path) -> bool:
    """Can every audio packet be read to the end? (Copying packets, not decoding: seconds for an hour.)

    ffprobe trusts the header, so a file cut short after a complete header (a "fast start" MP4) passes it;
    reading the packets finds the cut.
    """
    command = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-c", "copy", "-f", "null", "-"]
    done = subprocess.run(command, capture_output=True, text=True, errors="replace", check=False)
    return done.returncode == 0 and not _DAMAGE.search(done.stderr)
