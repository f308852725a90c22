"""Stage 6, package: the master playlist over every rendition, and a manifest the API and the player read.

The master lists the video ladder lowest first (players start on the first variant, and a weak link should
start light), then the audio-only variant, as Apple's players expect. hls.js drops audio-only variants from a
master that also has video, so the player loads ``audio/index.m3u8`` itself for "Chỉ nghe"; the manifest
names it.

The Opus rendition (``opus/``, fragmented MP4) stays out of the master: it is audio-only too, so hls.js would
drop it beside video just the same; a master of MPEG-TS variants stays at ``EXT-X-VERSION:3`` for older Apple
players, which an fMP4 variant would raise to 7; and players without Opus (iPhones before iOS 17) would have
to skip it. The player chooses it itself, like AAC *Chỉ nghe*, when the browser says it can play Opus; the
manifest names it (``opus_playlist``), and a lecture published before it has none (the player keeps AAC).
"""

from __future__ import annotations

import json
from pathlib import Path

from diemcau.adapters.media_store import LocalMediaStore
from diemcau.adapters.storage import SharedVolume
from diemcau.media.audio_file import AUDIO_FILE
from diemcau.media.poster import POSTER
from diemcau.media.transcode import AUDIO, OPUS
from diemcau.media.types import MediaInfo, Rendition

MASTER = "master.m3u8"
MANIFEST = "manifest.json"


def master_playlist(renditions: list[Rendition]) -> str:
    """The master playlist text: video variants by rising bandwidth, then audio-only AAC — not Opus (pure)."""
    video = sorted((r for r in renditions if r.height), key=lambda r: r.bandwidth)
    audio = [r for r in renditions if not r.height and r.name != OPUS.name]
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rendition in [*video, *audio]:
        attributes = [
            f"BANDWIDTH={max(rendition.bandwidth, 1)}",
            f"AVERAGE-BANDWIDTH={max(rendition.average_bandwidth, 1)}",
        ]
        if rendition.height:
            attributes.append(f"RESOLUTION={rendition.width}x{rendition.height}")
        attributes.append(f'CODECS="{rendition.codecs}"')
        lines += [f"#EXT-X-STREAM-INF:{','.join(attributes)}", rendition.playlist]
    return "\n".join(lines) + "\n"


def manifest(sha256: str, info: MediaInfo, renditions: list[Rendition]) -> dict:
    """What the lecture's media folder holds, for the API and the player (pure)."""
    opus = next((r.playlist for r in renditions if r.name == OPUS.name), None)
    return {
        "sha256": sha256,
        "duration_seconds": info.duration_seconds,
        "has_video": info.has_video,
        "master": MASTER,
        "audio_playlist": f"{AUDIO.name}/index.m3u8",
        **({"opus_playlist": opus} if opus else {}),
        "audio_file": AUDIO_FILE,
        "poster": POSTER,
        "renditions": [r.to_json() for r in renditions],
    }


def package(out_dir: Path, sha256: str, info: MediaInfo, renditions: list[Rendition]) -> Path:
    """Write ``master.m3u8`` and ``manifest.json`` into ``out_dir``; returns the master's path."""
    (out_dir / MANIFEST).write_text(json.dumps(manifest(sha256, info, renditions), ensure_ascii=False, indent=2))
    master = out_dir / MASTER
    master.write_text(master_playlist(renditions), encoding="utf-8")
    return master


def read_manifest(media: SharedVolume, sha256: str) -> dict | None:
    """The media manifest of the package stored under ``sha256``, or ``None`` when there is none."""
    path = LocalMediaStore(media).local_path(sha256, MANIFEST)
    return None if path is None else json.loads(path.read_text(encoding="utf-8"))


def rendition_summary(manifest: dict) -> list[dict]:
    """Each rendition of a manifest with its ``codec``, average ``kbps`` and total ``bytes`` (pure): what
    ``diemcau lecture show`` prints. A manifest written before renditions recorded their bytes gives 0."""
    return [
        {
            "name": r["name"],
            "label": r["label"],
            "codec": r["codecs"],
            "kbps": round(r["average_bandwidth"] / 1000, 1),
            "bytes": r.get("bytes", 0),
        }
        for r in manifest["renditions"]
    ]
