"""The benchmark lecture: bench/data/lecture_vi.txt spoken by espeak-ng, each paragraph twice, in three
Vietnamese voices (northern, southern, central) at 140–165 words per minute, with pauses of 0.8–6 s.

Synthetic speech is a regression signal only (Whisper base hears espeak-ng far worse than a person).
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.speech import lecture_paragraphs, synthesize, varied_lecture  # noqa: E402

TEXT = Path(__file__).with_name("data") / "lecture_vi.txt"


@dataclass(frozen=True)
class Lecture:
    """The generated audio, the text read into it, and its length."""

    audio: Path
    reference: str
    duration: float


def build_lecture(folder: Path | None = None, passes: int = 2) -> Lecture:
    """Synthesise the lecture into ``folder`` (a temporary folder by default)."""
    from diemcau.asr.audio import load_audio

    folder = folder or Path(tempfile.mkdtemp(prefix="asr-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    items = varied_lecture(lecture_paragraphs(TEXT), passes=passes)
    audio = synthesize(items, folder / "lecture.m4a")
    return Lecture(audio, " ".join(item.text for item in items), load_audio(audio).duration)


def cpu_threads() -> int:
    """Threads for CTranslate2: one per core (what the settings' 0 means)."""
    return os.cpu_count() or 1
