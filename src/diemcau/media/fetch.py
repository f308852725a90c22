"""Stage 1, fetch: a local file or a URL becomes local bytes in the work folder, with their sha256.

URLs go through yt-dlp's Python API, so any site yt-dlp supports works, as do direct media links and HLS
playlists (its generic extractor). Its failures become ``MediaError`` codes a trainer can act on.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yt_dlp
from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import DownloadError, UnsupportedError

from diemcau.media.errors import MediaError
from diemcau.media.ffmpeg import Progress, no_progress
from diemcau.media.types import FetchedSource, Limits

CHUNK = 1 << 20
SOURCE_STEM = "source"
# Sites often offer separate video and audio: take both, but nothing above 720p (the ladder's top).
URL_FORMAT = "bv*[height<=720]+ba/b[height<=720]/bv*+ba/b"
log = logging.getLogger(__name__)


def is_url(source: str) -> bool:
    """Is ``source`` an http(s) URL rather than a file path?"""
    return urlsplit(source).scheme in ("http", "https")


def fetch(source: str, work_dir: Path, limits: Limits, progress: Progress = no_progress) -> FetchedSource:
    """Bring ``source`` (a path or an http(s) URL) into ``work_dir`` and hash it."""
    work_dir.mkdir(parents=True, exist_ok=True)
    if is_url(source):
        return fetch_url(source, work_dir, limits, progress)
    return fetch_file(Path(source), work_dir, limits, progress)


def hash_file(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_file(path: Path, work_dir: Path, limits: Limits, progress: Progress = no_progress) -> FetchedSource:
    """Copy a local file into ``work_dir`` while hashing it (the trainer may move the original afterwards)."""
    if not path.is_file():
        raise MediaError("file_not_found", path=str(path))
    size = path.stat().st_size
    check_size(size, limits)
    target = work_dir / f"{SOURCE_STEM}{path.suffix.lower()}"
    digest, copied = hashlib.sha256(), 0
    with path.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            copied += len(chunk)
            progress(copied / size)
    progress(1.0)
    return FetchedSource(target, digest.hexdigest(), size, path.stem)


def check_size(size: int, limits: Limits) -> None:
    """Refuse an empty source or one over the size limit."""
    if size == 0:
        raise MediaError("empty")
    if size > limits.max_size_bytes:
        raise MediaError("too_large", size_mb=round(size / 2**20, 1), max_mb=limits.max_size_bytes // 2**20)


class _QuietLogger:
    """yt-dlp prints errors to stderr itself; send them to our log instead (we raise our own message)."""

    def debug(self, msg: str) -> None:
        log.debug(msg)

    info = debug

    def warning(self, msg: str) -> None:
        log.info(msg)

    def error(self, msg: str) -> None:
        log.info(msg)


def _ydl_options(work_dir: Path, limits: Limits, progress: Progress) -> dict[str, Any]:
    def hook(status: dict[str, Any]) -> None:
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        if status.get("status") == "downloading" and total:
            progress(min(1.0, status.get("downloaded_bytes", 0) / total))

    return {
        "outtmpl": str(work_dir / f"{SOURCE_STEM}.%(ext)s"),
        "format": URL_FORMAT,
        "noplaylist": True,
        "max_filesize": limits.max_size_bytes,
        "logger": _QuietLogger(),
        "noprogress": True,
        "progress_hooks": [hook],
        "retries": 2,
        "socket_timeout": 30,
        "overwrites": True,
        "cachedir": False,
    }


def fetch_url(url: str, work_dir: Path, limits: Limits, progress: Progress = no_progress) -> FetchedSource:
    """Download ``url`` with yt-dlp into ``work_dir``."""
    try:
        with yt_dlp.YoutubeDL(_ydl_options(work_dir, limits, progress)) as ydl:
            info = ydl.extract_info(url, download=True) or {}
    except DownloadError as error:
        raise url_error(error, url) from None
    downloads = info.get("requested_downloads") or [{}]
    path = Path(downloads[0].get("filepath") or "")
    if not path.is_file():
        # yt-dlp skips (without an error) a download it knows to be over max_filesize.
        size = info.get("filesize") or info.get("filesize_approx") or 0
        if size > limits.max_size_bytes:
            check_size(size, limits)
        raise MediaError("url_not_media", url=url)
    check_size(path.stat().st_size, limits)
    progress(1.0)
    return FetchedSource(path, hash_file(path), path.stat().st_size, str(info.get("title") or ""))


def _causes(error: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    todo: list[BaseException | None] = [error]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        chain.append(item)
        exc_info = getattr(item, "exc_info", None)
        inner = exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) > 1 else None
        todo += [getattr(item, "cause", None), inner, item.__cause__, item.__context__]
    return chain


def url_error(error: DownloadError, url: str) -> MediaError:
    """The ``MediaError`` for a yt-dlp failure: missing page, not media, unreachable, or server trouble."""
    for cause in _causes(error):
        if isinstance(cause, HTTPError):
            if cause.status in (404, 410):
                return MediaError("url_not_found", url=url)
            if cause.status >= 500 or cause.status == 429:
                return MediaError("url_unavailable", transient=True, url=url, status=cause.status)
            return MediaError("url_refused", url=url, status=cause.status)
        if isinstance(cause, UnsupportedError):
            return MediaError("url_not_media", url=url)
        if isinstance(cause, TransportError):
            return MediaError("url_unreachable", transient=True, url=url)
    detail = str(error).removeprefix("ERROR: ")[:300]
    return MediaError("url_failed", url=url, detail=detail)


def discard(work_dir: Path) -> None:
    """Remove a work folder and everything fetched into it."""
    shutil.rmtree(work_dir, ignore_errors=True)
