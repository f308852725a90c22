"""Lectures: their ids, their publishing status, and which media files a request may name (pure rules)."""

from __future__ import annotations

import re
import secrets
import string
import datetime as dt
from collections.abc import Iterable
from enum import StrEnum

LECTURE_ID_LENGTH = 11
_ID_ALPHABET = string.ascii_letters + string.digits  # url-safe, and never starts with '-' like a CLI option
_LECTURE_ID = re.compile(r"^[A-Za-z0-9]{6,32}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# A media path is a few plain names: master.m3u8, audio/index.m3u8, v360/seg_00003.ts, poster.jpg ...
_MEDIA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".aac": "audio/aac",
    ".m4a": "audio/mp4",
    ".m4s": "video/mp4",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".json": "application/json",
}


class LectureStatus(StrEnum):
    """Where a lecture stands: it exists once its media passed validation, and is shown to members when ready."""

    DRAFT = "draft"  # nháp: created without media (course files)
    PROCESSING = "processing"  # đang xử lý
    READY = "ready"  # sẵn sàng
    FAILED = "failed"  # lỗi


class TranscriptState(StrEnum):
    """What became of the transcription a publish asked for."""

    SKIPPED = "skipped"  # --no-transcribe
    PENDING = "pending"  # asked for, but no transcriber is installed yet
    QUEUED = "queued"  # handed to the transcriber's task (or being transcribed again)
    READY = "ready"  # the transcription ran to its end
    FAILED = "failed"  # the transcription failed (the job's error says why)


def materials_changed_since(
    transcribed_at: dt.datetime | None, uploads: Iterable[dt.datetime | None]
) -> dt.datetime | None:
    """The latest of ``uploads`` (of materials with text) after ``transcribed_at`` (when the transcription that
    made the current transcript was queued: it reads the materials after that), or ``None``: nothing to
    transcribe again for. A transcript of unknown making (imported captions, no job) is never called stale."""
    if transcribed_at is None:
        return None
    later = [at for at in uploads if at is not None and at > transcribed_at]
    return max(later, default=None)


def new_lecture_id() -> str:
    """A short random url-safe lecture id (11 letters or digits, ~65 bits)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(LECTURE_ID_LENGTH))


def is_valid_lecture_id(value: str) -> bool:
    """Could ``value`` be a lecture id (so it may be used in a path or a query)?"""
    return bool(_LECTURE_ID.match(value))


def is_sha256(value: str) -> bool:
    """Is ``value`` a lowercase hex sha256 digest (the name of a media folder)?"""
    return bool(_SHA256.match(value))


def safe_media_path(path: str) -> str | None:
    """``path`` when it names a file inside a lecture's media folder, else ``None`` (no traversal, no dotfiles)."""
    parts = path.split("/")
    if not 1 <= len(parts) <= 2 or not all(_MEDIA_NAME.match(part) for part in parts):
        return None
    if any(part in (".", "..") for part in parts) or media_content_type(parts[-1]) is None:
        return None
    return path


def media_content_type(name: str) -> str | None:
    """The content type served for a media file name, or ``None`` for a kind we never serve."""
    dot = name.rfind(".")
    return None if dot < 0 else CONTENT_TYPES.get(name[dot:].lower())
