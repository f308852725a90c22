"""Synthetic Vietnamese speech for the transcription tests and benchmarks: espeak-ng, then ffmpeg.

Synthetic speech is a regression signal only: Whisper base hears espeak-ng far worse than a human speaker,
so error rates measured on it say whether a change made things better or worse, not how good the product is.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

VOICES = ("vi", "vi-vn-x-south", "vi-vn-x-central")
SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Utterance:
    """One stretch of speech to synthesise, and the silence that follows it."""

    text: str
    voice: str = "vi"
    words_per_minute: int = 150
    pause_after: float = 1.0
    pitch: int = 50  # espeak-ng's -p, 0-99 (50 is its default)


def _run(args: Sequence[str]) -> None:
    subprocess.run(list(args), check=True, capture_output=True)


def synthesize(utterances: Sequence[Utterance], target: Path, extension: str = ".wav") -> Path:
    """Speak ``utterances`` in order into ``target`` (16 kHz mono; the format follows the suffix)."""
    with tempfile.TemporaryDirectory() as scratch:
        parts: list[Path] = []
        for number, item in enumerate(utterances):
            speech = Path(scratch) / f"{number}.wav"
            _run(
                [
                    "espeak-ng",
                    "-v",
                    item.voice,
                    "-s",
                    str(item.words_per_minute),
                    "-p",
                    str(item.pitch),
                    "-w",
                    str(speech),
                    item.text,
                ]
            )
            parts.append(speech)
            if item.pause_after > 0:
                parts.append(silence(Path(scratch) / f"{number}-pause.wav", item.pause_after))
        listing = Path(scratch) / "parts.txt"
        listing.write_text("".join(f"file '{p}'\n" for p in parts), encoding="utf-8")
        _run(
            [
                "ffmpeg",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "concat",
                "-safe",
                "0",
                "-i",
                str(listing),
                "-ar",
                str(SAMPLE_RATE),
                "-ac",
                "1",
                str(target),
            ]
        )
    return target


def silence(target: Path, seconds: float) -> Path:
    """A file of ``seconds`` of digital silence (16 kHz mono)."""
    _run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"anullsrc=r={SAMPLE_RATE}:cl=mono",
            "-t",
            f"{seconds:.3f}",
            str(target),
        ]
    )
    return target


def lecture_paragraphs(text_file: Path) -> list[str]:
    """The paragraphs of a lecture text file (blank lines separate them)."""
    blocks = text_file.read_text(encoding="utf-8").split("\n\n")
    return [" ".join(block.split()) for block in blocks if block.strip()]


def varied_lecture(paragraphs: Sequence[str], passes: int = 2) -> list[Utterance]:
    """Each paragraph ``passes`` times, cycling through voices, speeds and pauses (a pause of 6 s included)."""
    speeds = (140, 165, 155)
    pauses = (1.5, 3.0, 0.8, 6.0)
    items = []
    for number in range(passes * len(paragraphs)):
        text = paragraphs[number % len(paragraphs)]
        voice = VOICES[(number // len(paragraphs) + number) % len(VOICES)]
        items.append(Utterance(text, voice, speeds[number % len(speeds)], pauses[number % len(pauses)]))
    return items
