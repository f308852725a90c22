"""Stage 1, fetch: a local file or a URL becomes local bytes in the work folder, with their sha256.

URLs go through yt-dlp's Python API, so any site yt-dlp supports works, as do direct media links and HLS
playlists (its generic extractor). Its failures become ``MediaError`` codes a trainer can act on.

Every connection of a URL fetch goes through an ``EgressGuard`` (see ``egress_guard.py``): yt-dlp's requests,
its native HLS downloader's playlist and segments, and ``ffmpeg`` when yt-dlp hands a stream to it. Nothing else
may download: ``_GuardedYoutubeDL`` refuses any protocol but HTTP(S) and HLS, and live streams (which only
ffmpeg records). A destination the guard refuses, or cannot reach, gets one message (``url_unreachable``)
that does not tell what answered there.
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
from yt_dlp.utils import DownloadError, UnsupportedError, determine_protocol

from diemcau.core.egress import EgressPolicy
from diemcau.media.egress_guard import EgressGuard, Network
from diemcau.media.errors import MediaError
from diemcau.media.ffmpeg import Progress, no_progress
from diemcau.media.types import FetchedSource, Limits

CHUNK = 1 << 20
SOURCE_STEM = "source"
# Sites often offer separate video and audio: take both, but nothing above 720p (the ladder's top).
URL_FORMAT = "bv*[height<=720]+ba/b[height<=720]/bv*+ba/b"
# What yt-dlp may download with: its own HTTP and HLS downloaders (through the guard). RTMP, RTSP, MMS, DASH and
# the rest would run programs (rtmpdump, mpv, ffmpeg) that open their own connections.
DOWNLOAD_PROTOCOLS = frozenset({"http", "https", "m3u8", "m3u8_native"})
# When yt-dlp's HLS downloader hands a stream to ffmpeg (AES-128 without pycryptodomex, unusual features), ffmpeg
# gets the guard as its proxy and may speak nothing but HTTP(S) to it: no file, udp, rtp or bare tcp URLs.
FFMPEG_PROTOCOLS = "http,https,tls,tcp,httpproxy,crypto,data"
log = logging.getLogger(__name__)


def is_url(source: str) -> bool:
    """Is ``source`` an http(s) URL rather than a file path?"""
    return urlsplit(source).scheme in ("http", "https")


def fetch(
    source: str, work_dir: Path, limits: Limits, progress: Progress = no_progress, egress: EgressPolicy = EgressPolicy()
) -> FetchedSource:
    """Bring ``source`` (a path or an http(s) URL, fetched within ``egress``) into ``work_dir`` and hash it."""
    work_dir.mkdir(parents=True, exist_ok=True)
    if is_url(source):
        return fetch_url(source, work_dir, limits, progress, egress)
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


class _GuardedYoutubeDL(yt_dlp.YoutubeDL):
    """yt-dlp that downloads only with the downloaders that go through the guard (``DOWNLOAD_PROTOCOLS``)."""

    def __init__(self, params: dict[str, Any], url: str) -> None:
        super().__init__(params)
        self.source_url = url

    def dl(self, name: str, info: dict[str, Any], subtitle: bool = False, test: bool = False) -> Any:
        for fmt in info.get("requested_formats") or [info]:
            protocol = determine_protocol(fmt)
            if info.get("is_live") or fmt.get("is_live") or protocol not in DOWNLOAD_PROTOCOLS:
                log.info(
                    "refusing to download %s with protocol %s (live: %s)",
                    fmt.get("url"),
                    protocol,
                    bool(info.get("is_live")),
                )
                raise MediaError("url_not_media", url=self.source_url)
        return super().dl(name, info, subtitle, test)


def _ydl_options(work_dir: Path, limits: Limits, progress: Progress, proxy: str) -> dict[str, Any]:
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
        "fragment_retries": 2,
        "skip_unavailable_fragments": False,  # a lecture with holes is no lecture; and a refused segment is final
        "socket_timeout": 30,
        "overwrites": True,
        "cachedir": False,
        # The guard, for yt-dlp's own requests and (as http_proxy) for any ffmpeg it starts.
        "proxy": proxy,
        "hls_prefer_native": True,
        "external_downloader": {"default": "native"},
        "external_downloader_args": {"ffmpeg_i": ["-protocol_whitelist", FFMPEG_PROTOCOLS, "-http_proxy", proxy]},
    }


def fetch_url(
    url: str,
    work_dir: Path,
    limits: Limits,
    progress: Progress = no_progress,
    egress: EgressPolicy = EgressPolicy(),
    network: Network | None = None,
) -> FetchedSource:
    """Download ``url`` with yt-dlp into ``work_dir``, every connection through a guard on ``egress``
    (``network`` resolves and connects for the guard: the system's, unless a test gives a fake one)."""
    with EgressGuard(egress, network) as guard:
        try:
            with _GuardedYoutubeDL(_ydl_options(work_dir, limits, progress, guard.proxy_url), url) as ydl:
                info = ydl.extract_info(url, download=True) or {}
        except DownloadError as error:
            raise url_error(error, url, guard) from None
        if guard.refused("forbidden"):  # yt-dlp may carry on past a refused request (another format, a fallback)
            raise MediaError("url_unreachable", url=url)
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


def url_error(error: DownloadError, url: str, guard: EgressGuard | None = None) -> MediaError:
    """The ``MediaError`` for a yt-dlp failure: refused or unreachable destination, missing page, not media, or
    server trouble. yt-dlp's own words go to the log, never to the trainer."""
    log.warning("fetching %s failed: %s", url, error)
    if guard is not None and guard.refused("forbidden"):
        return MediaError("url_unreachable", url=url)  # the same words as a network failure, and not retried
    if guard is not None and (guard.refused("unreachable") or guard.refused("unresolvable")):
        return MediaError("url_unreachable", transient=True, url=url)
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
    return MediaError("url_failed", url=url)


def discard(work_dir: Path) -> None:
    """Remove a work folder and everything fetched into it."""
    shutil.rmtree(work_dir, ignore_errors=True)
