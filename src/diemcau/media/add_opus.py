"""The Opus rendition for lectures published before it: made from the package's own audio file and added to the
stored package, so their *Chỉ nghe* costs a third of the bytes too (issue 17; ``diemcau lecture add-opus``).

A package is content-addressed and otherwise never changes, so the addition keeps every reader's view whole:
``opus/`` is encoded in the volume's staging area and published as one folder (``SharedVolume.publish_tree``, one
rename), and only then is ``manifest.json`` replaced (``SharedVolume.publish``, one rename). A reader of the old
manifest never learns of ``opus/``; a reader of the new one finds it complete. An addition cut anywhere leaves
either nothing, or ``opus/`` whole with the old manifest, which the next run completes. The API keeps manifests
``perf.lecture_seconds`` (``ApiCaches``), so players choose Opus within that.

The source is the package's ``audio.m4a`` (the *Chỉ nghe* AAC rendition as one file, kept for download): a second
lossy encoding of speech, where a new publish encodes Opus from the trainer's original.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from diemcau.adapters.storage import SharedVolume
from diemcau.media.audio_file import AUDIO_FILE
from diemcau.media.errors import MediaError
from diemcau.media.package import MANIFEST, manifest, read_manifest
from diemcau.media.transcode import OPUS, measure, transcode
from diemcau.media.types import MediaInfo, Rendition


@dataclass(frozen=True)
class Added:
    """What ``add_opus`` did to one package: ``rendition`` is the Opus rendition, ``None`` if it was there."""

    sha256: str
    rendition: Rendition | None


def with_opus(stored: dict, opus: Rendition) -> dict:
    """The manifest ``stored`` would have been, had ``opus`` been encoded with it (pure; ``package.manifest``)."""
    info = MediaInfo(duration_seconds=float(stored["duration_seconds"]), has_video=bool(stored["has_video"]))
    renditions = [Rendition.from_json(r) for r in stored["renditions"] if r["name"] != OPUS.name]
    return manifest(stored["sha256"], info, [*renditions, opus])


def add_opus(media: SharedVolume, sha256: str) -> Added:
    """Add the Opus rendition to the package stored under ``sha256``, unless its manifest names one already.

    ``MediaError("package_missing")`` for a package that is not there (or has no audio file to encode from);
    ffmpeg's failure (a damaged audio file) is ``MediaError("transcode_failed")``, and leaves the package as it was.
    """
    stored = read_manifest(media, sha256)
    if stored is None:
        raise MediaError("package_missing", sha256=sha256)
    if stored.get("opus_playlist"):
        return Added(sha256, None)
    source = media.local_path(f"{sha256}/{stored.get('audio_file', AUDIO_FILE)}")
    if source is None:
        raise MediaError("package_missing", sha256=sha256)
    info = MediaInfo(duration_seconds=float(stored["duration_seconds"]), has_video=False)
    with tempfile.TemporaryDirectory(prefix="add-opus-") as scratch:
        encoded = transcode(source, info, OPUS, Path(scratch))
        if not media.publish_tree(f"{sha256}/{OPUS.name}", Path(scratch) / OPUS.name):
            # a run cut after publishing opus/ (or another host's run): that folder is whole; describe it
            encoded = measure(OPUS, info, media.path(f"{sha256}/{OPUS.name}"))
    text = json.dumps(with_opus(stored, encoded), ensure_ascii=False, indent=2)
    media.publish(sha256, {MANIFEST: text.encode("utf-8")})
    return Added(sha256, encoded)
