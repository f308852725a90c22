"""Transcription quality: WER and CER (jiwer, after spelling out numbers, lower case, no punctuation) of our
pipeline on the espeak-ng benchmark lecture, with and without the glossary prompt (src/diemcau/asr/glossary.txt),
and of a plain ``WhisperModel.transcribe`` call as the baseline.

Synthetic speech is ONLY A REGRESSION SIGNAL: Whisper base hears espeak-ng's robotic Vietnamese far worse
than a human lecturer, so these rates say whether a change helps or hurts, not how well the product does
(published WER on real Vietnamese, FLEURS: small ≈22 %, large-v3 ≈8 %).
Run: ``.venv/bin/python bench/asr_quality.py [--passes 1]``.
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
from diemcau.asr.pipeline import PipelineOptions, options_from_settings, transcribe_audio  # noqa: E402
from diemcau.asr.scoring import error_rates  # noqa: E402
from diemcau.settings import load_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=2, help="times each paragraph is read (2 → ~6 min)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="asr-quality-"))
    # no courses folder of its own: the prompt is the shipped glossary (src/diemcau/asr/glossary.txt)
    settings = load_settings({"DIEMCAU_HOME": str(home / "var"), "DIEMCAU_TRANSCRIPTION__GLOSSARY_PROMPT": "true"})
    lecture = build_lecture(home, args.passes)
    loaded = load_whisper_model(settings)
    with_prompt = options_from_settings(settings)
    runs = {
        "pipeline, no prompt": replace(with_prompt, decoding=replace(with_prompt.decoding, initial_prompt=None)),
        "pipeline, glossary prompt": with_prompt,
    }
    print(
        f"lecture: {lecture.duration:.0f} s, {len(lecture.reference.split())} words; synthetic speech: "
        "a regression signal only"
    )
    print(f"{'configuration':36} {'WER':>6} {'CER':>6} {'CPU RTF':>7}  guards fired", flush=True)

    def show(name: str, text: str, seconds: float, notes: list[str]) -> None:
        rates = error_rates(lecture.reference, text)
        fired = ", ".join(f"{code}×{notes.count(code)}" for code in sorted(set(notes))) or "-"
        print(f"{name:36} {rates.wer:6.3f} {rates.cer:6.3f} {seconds / lecture.duration:7.3f}  {fired}", flush=True)

    started = time.process_time()
    segments, _ = loaded.model.transcribe(str(lecture.audio), **PipelineOptions().decoding.whisper_kwargs())
    show("baseline: WhisperModel.transcribe", " ".join(s.text for s in segments), time.process_time() - started, [])
    for name, options in runs.items():
        started = time.process_time()
        transcript = transcribe_audio(loaded.model, loaded.describe(), lecture.audio, "bench", options)
        show(name, transcript.text, time.process_time() - started, [n["code"] for n in transcript.settings["notes"]])


if __name__ == "__main__":
    main()
