"""Packaging cost per media hour (audio-only vs the full ladder) and bytes per member-hour per rendition.

Chỉ nghe in Opus against AAC: the bytes per member-hour of each (every segment, the fMP4 init segment included),
and their ratio, from the same run (goal for Opus: ≤ 10 MB per member-hour).

A generated 1280x720 source (ffmpeg ``testsrc2`` with a moving pattern, and espeak-ng Vietnamese speech
looped under it) of ``--minutes`` (default 2) goes through the real stages: transcode, audio file, poster,
package. The figure is the processing time as a ratio to the media's duration (the real-time factor; the
baseline is the duration itself: 1.0 means an hour of media takes an hour); per hour of media it is that ratio
times 60 minutes — extrapolated from the short source, as the encoders' cost is linear in duration.
``testsrc2`` is cheaper to encode than a camera picture, so the video figures are a lower bound.

Run: ``.venv/bin/python bench/media_packaging.py [--minutes 2]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from diemcau.media.audio_file import make_audio_file  # noqa: E402
from diemcau.media.package import package  # noqa: E402
from diemcau.media.poster import make_poster  # noqa: E402
from diemcau.media.probe import probe  # noqa: E402
from diemcau.media.transcode import AUDIO, OPUS, plan_renditions, transcode  # noqa: E402
from diemcau.media.types import FetchedSource, Limits  # noqa: E402

SPEECH = (
    "Kính thưa các đồng chí. Hôm nay chúng ta học tập, quán triệt nghị quyết của Ban Chấp hành Trung ương "
    "về tiếp tục xây dựng và chỉnh đốn Đảng, xây dựng hệ thống chính trị trong sạch, vững mạnh."
)


def make_source(folder: Path, minutes: float) -> Path:
    """A ``minutes``-long 720p lecture-like source: test pattern video, looped Vietnamese speech."""
    wav = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-s", "150", "-w", str(wav), SPEECH], check=True)
    source = folder / "source.mp4"
    seconds = str(minutes * 60)
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=1280x720:rate=25:duration={seconds}",
            "-stream_loop",
            "-1",
            "-i",
            str(wav),
            "-t",
            seconds,
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "18",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            str(source),
        ],
        check=True,
    )
    return source


CPU: dict[str, float] = {}


def timed(action, name: str = "") -> float:  # type: ignore[no-untyped-def]
    """Wall seconds of ``action``; its ffmpeg children's CPU seconds go to ``CPU[name]``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    action()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[name] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="length of the generated source (≥ 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = make_source(folder, args.minutes)
        fetched = FetchedSource(source, "0" * 64, source.stat().st_size)
        info = probe(fetched, Limits(24 * 3600, 1 << 40))
        out = folder / "out"
        specs = plan_renditions(info)
        seconds: dict[str, float] = {}
        renditions = []
        for spec in specs:
            encode = lambda spec=spec: renditions.append(transcode(source, info, spec, out, "veryfast"))  # noqa: E731
            seconds[spec.name] = timed(encode, spec.name)
        seconds["audio_file"] = timed(lambda: make_audio_file(out, info.duration_seconds), "audio_file")
        seconds["poster"] = timed(lambda: make_poster(source, info, out), "poster")
        seconds["package"] = timed(lambda: package(out, "0" * 64, info, renditions), "package")
    report(info.duration_seconds, seconds, renditions)


def report(duration: float, seconds: dict[str, float], renditions) -> None:  # type: ignore[no-untyped-def]
    audio_parts = (AUDIO.name, OPUS.name, "audio_file", "package")
    audio_only, full = sum(seconds[k] for k in audio_parts), sum(seconds.values())
    audio_cpu, full_cpu = sum(CPU[k] for k in audio_parts), sum(CPU.values())
    print(f"source: {duration:.1f} s of 1280x720 video + speech; {os.cpu_count()} CPU cores; x264 preset veryfast")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other work on the machine inflates wall times)")
    print("\nstage wall seconds:", ", ".join(f"{name} {value:.2f}" for name, value in seconds.items()))
    print("stage CPU seconds: ", ", ".join(f"{name} {value:.2f}" for name, value in CPU.items()))
    print("\npackaging cost | wall s | wall / media duration (baseline 1.0) | per media hour | CPU s / media s")
    for name, wall, cpu in (
        ("audio-only (Chỉ nghe AAC + Opus + m4a)", audio_only, audio_cpu),
        ("full ladder", full, full_cpu),
    ):
        print(f"{name} | {wall:.1f} | {wall / duration:.3f} | {wall / duration * 60:.1f} min | {cpu / duration:.3f}")
    print(f"full ladder / audio-only: {full / audio_only:.1f}x wall, {full_cpu / audio_cpu:.1f}x CPU")
    print("\nrendition | average kbps | peak kbps | MB per member-hour")
    for r in renditions:
        print(
            f"{r.label} | {r.average_bandwidth / 1000:.0f} | {r.bandwidth / 1000:.0f} | {r.average_bandwidth * 450 / 1e6:.1f}"
        )
    by_name = {r.name: r for r in renditions}
    aac, opus = (by_name[name].bytes * 3600 / duration / 1e6 for name in (AUDIO.name, OPUS.name))
    print(
        f"\nChỉ nghe, MB per member-hour (all segments + init): AAC {aac:.2f}, Opus {opus:.2f}; "
        f"Opus / AAC = {opus / aac:.2f} ({aac / opus:.1f}x smaller); goal Opus ≤ 10 MB: "
        f"{'met' if opus <= 10 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
