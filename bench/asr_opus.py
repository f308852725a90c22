"""Intelligibility of the Opus rendition: the word error rate of our own transcription pipeline on the
espeak-ng benchmark lecture (``asr_lecture.py``), on its source and on its Opus *Chỉ nghe* rendition (made by the
real ``media.transcode`` stage: libopus 20 kbps mono, fragmented MP4; ``--kbps 16 20 24`` compares rates), in
the same run. Goal: within 0.02.

The rendition's init segment and fragments, joined in order, are one fragmented MP4 — what a player plays — and
that file is what the pipeline transcribes. Synthetic speech is ONLY A REGRESSION SIGNAL (Whisper base hears
espeak-ng far worse than a person): the difference between the two rates is the figure, not the rates.

Run: ``.venv/bin/python bench/asr_opus.py [--passes 1] [--kbps 16 20 24]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asr_lecture import build_lecture  # noqa: E402

from diemcau.adapters.whisper_model import load_whisper_model  # noqa: E402
from diemcau.asr.pipeline import options_from_settings, transcribe_audio  # noqa: E402
from diemcau.asr.scoring import error_rates  # noqa: E402
from diemcau.media.transcode import OPUS, OPUS_INIT, PLAYLIST, segment_list, transcode  # noqa: E402
from diemcau.media.types import MediaInfo  # noqa: E402
from diemcau.settings import load_settings  # noqa: E402


def opus_file(source: Path, duration: float, folder: Path, kbps: int) -> tuple[Path, int]:
    """The Opus rendition of ``source`` (at ``kbps``) as one fragmented MP4 (init + fragments), and its bytes."""
    spec = replace(OPUS, audio_kbps=kbps)
    rendition = transcode(source, MediaInfo(duration, has_video=False), spec, folder)
    parts = folder / OPUS.name
    joined = folder / f"opus{kbps}.mp4"
    with joined.open("wb") as out:
        out.write((parts / OPUS_INIT).read_bytes())
        for _, name in segment_list(parts / PLAYLIST):
            out.write((parts / name).read_bytes())
    return joined, rendition.bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=1, help="times each paragraph is read (1 → ~2.7 min)")
    parser.add_argument(
        "--kbps", type=int, nargs="+", default=[OPUS.audio_kbps], help="Opus bit rates to compare (the shipped one)"
    )
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="asr-opus-"))
    settings = load_settings({"DIEMCAU_HOME": str(home / "var")})
    lecture = build_lecture(home, args.passes)
    print(
        f"lecture: {lecture.duration:.0f} s, {len(lecture.reference.split())} words, synthetic speech (a regression "
        f"signal only); source {lecture.audio.name} {lecture.audio.stat().st_size * 8 / lecture.duration / 1e3:.0f}"
        " kbps"
    )
    audio = [("source", lecture.audio)]
    for kbps in args.kbps:
        path, size = opus_file(lecture.audio, lecture.duration, home, kbps)
        audio.append((f"Opus {kbps} kbps ({size * 8 / lecture.duration / 1e3:.1f} measured)", path))
    loaded = load_whisper_model(settings)
    options = options_from_settings(settings)  # the pipeline as deployed (defaults)
    print(f"{'audio':32} {'WER':>6} {'CER':>6} {'CPU RTF':>7}  WER − source", flush=True)
    source = None
    for name, path in audio:
        started = time.process_time()
        transcript = transcribe_audio(loaded.model, loaded.describe(), path, "bench", options)
        rates = error_rates(lecture.reference, transcript.text)
        source = source or rates
        rtf = (time.process_time() - started) / lecture.duration
        gap = rates.wer - source.wer
        verdict = "" if rates is source else f"{gap:+.3f} ({'within' if gap <= 0.02 else 'NOT within'} 0.02)"
        print(f"{name:32} {rates.wer:6.3f} {rates.cer:6.3f} {rtf:7.3f}  {verdict}", flush=True)


if __name__ == "__main__":
    main()
