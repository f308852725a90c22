"""Stage 3, transcode: one HLS rendition per ffmpeg run — audio-only "Chỉ nghe" first, then the video ladder.

Audio-only is AAC mono at a nominal 40 kbps in 4-second segments, except the first two, of 1 and 2 seconds
(``AUDIO_RAMP``): a member on a 256 kbps link starts listening after one ~7 KB segment instead of ~28 KB (FFmpeg's AAC encoder overshoots on speech: ~55 kbps measured, ~60 kbps with
the MPEG-TS framing; see docs/benchmarks.md). FFmpeg's built-in AAC encoder has no HE-AAC profile (that needs the non-free libfdk_aac,
which Debian does not ship), so it is AAC-LC; for speech at 48 kbps mono the difference is small, and every
player decodes LC. The video ladder (240p ~300 kbps, 360p, 720p) stops at the source's own height, and each
video rendition carries its own audio so a phone needs one request per segment, not two.

Beside it, *Chỉ nghe* in Opus (``OPUS``, folder ``opus/``): libopus at 20 kbps mono, tuned for speech
(``-application voip``) in 60 ms frames, in fragmented MP4 (an ``init.mp4`` then ``seg_*.m4s``) — Opus in HLS
plays only in fMP4, and hls.js needs the codec written lowercase ``opus`` (hls.js #4472). 20 kbps because it is
the lowest rate at which our own Whisper pipeline hears the rendition as well as the source (WER +0.004 against
the source; 16 kbps lost 0.023, over the 0.02 allowed: ``bench/asr_opus.py``), and it stays under 10 MB per
member-hour (~9 MB on speech without pauses, about a third of AAC's; docs/benchmarks.md). 60 ms frames shrink the
fMP4 index (one entry per frame) and suit speech. It has no ramp: FFmpeg's hls muxer cuts VOD segments evenly,
and a 4 s Opus segment (~10 KB) is about the weight of AAC's first two short ones.
AAC stays as the fallback for players without Opus (iPhones before iOS 17).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from diemcau.media.ffmpeg import Progress, no_progress, run_ffmpeg
from diemcau.media.types import MediaInfo, Rendition, RenditionSpec

PLAYLIST = "index.m3u8"
AUDIO = RenditionSpec("audio", "Chỉ nghe", 0, 0, 40, 4)
LADDER = (
    RenditionSpec("v240", "240p", 240, 250, 48, 6),
    RenditionSpec("v360", "360p", 360, 550, 64, 6),
    RenditionSpec("v720", "720p", 720, 1800, 96, 6),
)
# The first audio segments' lengths (s), before the steady segment_seconds. FFmpeg's hls muxer cannot vary
# them for a VOD playlist (hls_init_time applies to every segment then), so audio uses the segment muxer.
AUDIO_RAMP = (1, 2)
AUDIO_CODEC = "mp4a.40.2"  # AAC-LC
OPUS = RenditionSpec("opus", "Chỉ nghe (Opus)", 0, 0, 20, 4)
OPUS_CODEC = "opus"  # lowercase: hls.js matches it so (hls.js #4472)
OPUS_INIT = "init.mp4"
_H264_LEVEL = {240: ("3.0", "avc1.4d401e"), 360: ("3.0", "avc1.4d401e"), 720: ("3.1", "avc1.4d401f")}


def plan_renditions(info: MediaInfo) -> tuple[RenditionSpec, ...]:
    """Audio-only (AAC, then Opus), then each ladder rung no taller than the source (pure).

    A source shorter than the lowest rung still gets one video rendition, at its own (even) height.
    """
    if not info.has_video or info.height <= 0:
        return (AUDIO, OPUS)
    rungs = tuple(spec for spec in LADDER if spec.height <= info.height)
    if not rungs:
        height = max(2, info.height - info.height % 2)
        low = LADDER[0]
        rungs = (
            RenditionSpec(f"v{height}", f"{height}p", height, low.video_kbps, low.audio_kbps, low.segment_seconds),
        )
    return (AUDIO, OPUS, *rungs)


def scaled_width(info: MediaInfo, height: int) -> int:
    """The even width ``scale=-2:height`` gives this source (pure)."""
    if info.height <= 0:
        return 0
    return max(2, round(info.width * height / info.height / 2) * 2)


def _audio_args(spec: RenditionSpec) -> list[str]:
    return ["-c:a", "aac", "-b:a", f"{spec.audio_kbps}k", "-ac", "1", "-ar", "44100"]


def _opus_args(spec: RenditionSpec, folder: Path) -> list[str]:
    """Speech Opus in fragmented-MP4 HLS: ``init.mp4`` and ``seg_*.m4s``.

    Always encoded from 48 kHz: the MP4 sample entry of Opus says 48 kHz, and Chromium refuses an init segment
    whose OpusSpecificBox names another input rate (which libopus would get from a 22.05 kHz source: 24 kHz).
    """
    return [
        *("-c:a", "libopus", "-b:a", f"{spec.audio_kbps}k", "-ac", "1", "-ar", "48000", "-application", "voip"),
        *("-frame_duration", "60", "-f", "hls", "-hls_time", str(spec.segment_seconds)),
        *("-hls_playlist_type", "vod", "-hls_flags", "independent_segments", "-hls_segment_type", "fmp4"),
        *("-hls_fmp4_init_filename", OPUS_INIT, "-hls_segment_filename", str(folder / "seg_%05d.m4s")),
        str(folder / PLAYLIST),
    ]


def _video_args(spec: RenditionSpec, preset: str) -> list[str]:
    level = _H264_LEVEL.get(spec.height, ("3.1", ""))[0]
    kbps = spec.video_kbps
    return [
        "-vf",
        f"scale=-2:{spec.height}",
        "-fpsmax",
        "30",
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-profile:v",
        "main",
        "-level",
        level,
        "-b:v",
        f"{kbps}k",
        "-maxrate",
        f"{kbps * 6 // 5}k",
        "-bufsize",
        f"{kbps * 2}k",
        # A key frame at every segment start, whatever the scene, so renditions switch cleanly.
        "-force_key_frames",
        f"expr:gte(t,n_forced*{spec.segment_seconds})",
        "-sc_threshold",
        "0",
    ]


def _hls_args(spec: RenditionSpec, folder: Path) -> list[str]:
    return [
        "-f",
        "hls",
        "-hls_time",
        str(spec.segment_seconds),
        "-hls_playlist_type",
        "vod",
        "-hls_flags",
        "independent_segments",
        "-hls_segment_type",
        "mpegts",
        "-hls_segment_filename",
        str(folder / "seg_%05d.ts"),
        str(folder / PLAYLIST),
    ]


def audio_cut_times(spec: RenditionSpec, duration: float) -> list[float]:
    """Where the audio-only rendition is cut: after each ``AUDIO_RAMP`` length, then every segment_seconds."""
    cuts, at = [], 0.0
    for length in AUDIO_RAMP:
        at += length
        cuts.append(at)
    while at + spec.segment_seconds < duration:
        at += spec.segment_seconds
        cuts.append(at)
    return [cut for cut in cuts if cut < duration]


def _ramped_audio_args(spec: RenditionSpec, folder: Path, duration: float) -> list[str]:
    times = ",".join(f"{cut:g}" for cut in audio_cut_times(spec, duration)) or f"{spec.segment_seconds}"
    return [
        "-f",
        "segment",
        "-segment_times",
        times,
        "-segment_format",
        "mpegts",
        "-segment_list",
        str(folder / PLAYLIST),
        "-segment_list_type",
        "m3u8",
        str(folder / "seg_%05d.ts"),
    ]


def _as_vod_playlist(playlist: Path) -> None:
    """The segment muxer's list, with the tags the hls muxer writes for VOD (and without the obsolete one)."""
    lines = [line for line in playlist.read_text(encoding="utf-8").splitlines() if line != "#EXT-X-ALLOW-CACHE:YES"]
    at = lines.index("#EXT-X-VERSION:3") + 1 if "#EXT-X-VERSION:3" in lines else 1
    lines[at:at] = ["#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS"]
    temp = playlist.with_suffix(".tmp")
    temp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    temp.replace(playlist)


def transcode(
    source: Path,
    info: MediaInfo,
    spec: RenditionSpec,
    out_dir: Path,
    preset: str = "veryfast",
    progress: Progress = no_progress,
) -> Rendition:
    """Encode one rendition of ``source`` into ``out_dir/<spec.name>/`` (cleared first: a rerun starts clean)."""
    folder = out_dir / spec.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if spec.name == OPUS.name:
        streams = ["-map", "0:a:0", "-vn", *_opus_args(spec, folder)]
    elif spec.height == 0:
        streams = ["-map", "0:a:0", "-vn", *_audio_args(spec), *_ramped_audio_args(spec, folder, info.duration_seconds)]
    else:
        streams = [
            "-map",
            "0:v:0",
            "-map",
            "0:a:0",
            *_video_args(spec, preset),
            *_audio_args(spec),
            *_hls_args(spec, folder),
        ]
    run_ffmpeg(["-i", str(source), *streams], info.duration_seconds, progress)
    if spec.height == 0 and spec.name != OPUS.name:
        _as_vod_playlist(folder / PLAYLIST)
    return measure(spec, info, folder)


def segment_list(playlist: Path) -> list[tuple[float, str]]:
    """(duration, file name) of each segment in a media playlist."""
    segments, duration = [], 0.0
    for line in playlist.read_text(encoding="utf-8").splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",")[0])
        elif line and not line.startswith("#"):
            segments.append((duration, line))
    return segments


def measure(spec: RenditionSpec, info: MediaInfo, folder: Path) -> Rendition:
    """The rendition's peak and average bit rates, from its segments' real sizes (an fMP4 init segment counts in
    the bytes, fetched once, not in the rates)."""
    segments = segment_list(folder / PLAYLIST)
    sizes = [(seconds, (folder / name).stat().st_size) for seconds, name in segments]
    init = folder / OPUS_INIT if spec.name == OPUS.name else None
    segment_bytes = sum(size for _, size in sizes)
    total_seconds = sum(seconds for seconds, _ in sizes) or 1.0
    peak = max((size * 8 / max(seconds, 0.5) for seconds, size in sizes), default=0.0)
    if spec.name == OPUS.name:
        codecs = OPUS_CODEC
    elif spec.height == 0:
        codecs = AUDIO_CODEC
    else:
        codecs = f"{_H264_LEVEL.get(spec.height, ('', 'avc1.4d401f'))[1]},{AUDIO_CODEC}"
    return Rendition(
        name=spec.name,
        label=spec.label,
        playlist=f"{spec.name}/{PLAYLIST}",
        bandwidth=int(peak),
        average_bandwidth=int(segment_bytes * 8 / total_seconds),
        width=scaled_width(info, spec.height),
        height=spec.height,
        codecs=codecs,
        bytes=segment_bytes + (init.stat().st_size if init is not None and init.exists() else 0),
    )
