"""Stage 6, package: the master playlist over every rendition, and a manifest the API and the player read.

The master lists the video ladder lowest first (players start on the first variant, and a weak link should
start light), then the audio-only variant, as Apple's players expect. hls.js drops audio-only variants from a
master that also has video, so the player loads ``audio/index.m3u8`` itself for "Chỉ nghe"; the manifest
names it.
"""

from __future__ import annotations

import json
from pathlib import Path

from diemcau.media.audio_file import AUDIO_FILE
from diemcau.media.poster import POSTER
from diemcau.media.transcode import AUDIO
from diemcau.media.types import MediaInfo, Rendition

MASTER = "master.m3u8"
MANIFEST = "manifest.json"


def master_playlist(renditions: list[Rendition]) -> str:
    """The master playlist text: video variants by rising bandwidth, then audio-only (pure)."""
    video = sorted((r for r in renditions if r.height), key=lambda r: r.bandwidth)
    audio = [r for r in renditions if not r.height]
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
    return {
        "sha256": sha256,
        "duration_seconds": info.duration_seconds,
        "has_video": info.has_video,
        "master": MASTER,
        "audio_playlist": f"{AUDIO.name}/index.m3u8",
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
