"""Intelligibility of the Opus rendition: the word error rate of our own transcription pipeline on the
espeak-ng benchmark lecture (``asr_lecture.py``), on its source and on its Opus *Chỉ nghe* rendition (made by the
real ``media.transcode`` stage: libopus 16 kbps mono, fragmented MP4), in the same run. Goal: within 0.02.

The rendition's init segment and fragments, joined in order, are one fragmented MP4 — what a player plays — and
that file is what the pipeline transcribes. Synthetic speech is ONLY A REGRESSION SIGNAL (Whisper base hears
espeak-ng far worse than a person): the difference between the two rates is the figure, not the rates.

Run: ``.venv/bin/python bench/asr_opus.py [--passes 1]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asr_lecture import build_lecture  # noqa: E402

from diemcau.adapters.whisper_model import load_whisper_model  # noqa: E402
from diemcau.asr.pipeline import options_from_settings, transcribe_audio  # noqa: E402
from diemcau.asr.scoring import error_rates  # noqa: E402
from diemcau.media.transcode import OPUS, OPUS_INIT, PLAYLIST, segment_list, transcode  # noqa: E402
from diemcau.media.types import MediaInfo  # noqa: E402
from diemcau.settings import load_settings  # noqa: E402


def opus_file(source: Path, duration: float, folder: Path) -> tuple[Path, int]:
    """The Opus rendition of ``source`` as one fragmented MP4 (init + fragments), and its bytes."""
    rendition = transcode(source, MediaInfo(duration, has_video=False), OPUS, folder)
    parts = folder / OPUS.name
    joined = folder / "opus.mp4"
    with joined.open("wb") as out:
        out.write((parts / OPUS_INIT).read_bytes())
        for _, name in segment_list(parts / PLAYLIST):
            out.write((parts / name).read_bytes())
    return joined, rendition.bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=1, help="times each paragraph is read (1 → ~2.7 min)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="asr-opus-"))
    settings = load_settings({"DIEMCAU_HOME": str(home / "var")})
    lecture = build_lecture(home, args.passes)
    opus, opus_bytes = opus_file(lecture.audio, lecture.duration, home)
    loaded = load_whisper_model(settings)
    options = options_from_settings(settings)  # the pipeline as deployed (defaults)
    print(
        f"lecture: {lecture.duration:.0f} s, {len(lecture.reference.split())} words, synthetic speech (a regression "
        f"signal only); source {lecture.audio.name} {lecture.audio.stat().st_size / 1e3:.0f} KB, Opus rendition "
        f"{opus_bytes / 1e3:.0f} KB ({opus_bytes * 8 / lecture.duration / 1000:.1f} kbps)"
    )
    print(f"{'audio':28} {'WER':>6} {'CER':>6} {'CPU RTF':>7}", flush=True)
    rates = {}
    for name, path in (("source", lecture.audio), ("Opus rendition (16 kbps)", opus)):
        started = time.process_time()
        transcript = transcribe_audio(loaded.model, loaded.describe(), path, "bench", options)
        rates[name] = error_rates(lecture.reference, transcript.text)
        rtf = (time.process_time() - started) / lecture.duration
        print(f"{name:28} {rates[name].wer:6.3f} {rates[name].cer:6.3f} {rtf:7.3f}", flush=True)
    source, encoded = rates["source"], rates["Opus rendition (16 kbps)"]
    gap = encoded.wer - source.wer
    print(
        f"WER Opus − source: {gap:+.3f} (CER {encoded.cer - source.cer:+.3f}); goal within 0.02: "
        f"{'met' if gap <= 0.02 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
