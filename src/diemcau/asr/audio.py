"""Stage 1: decode a media file (any container ffmpeg/PyAV reads) to 16 kHz mono float samples."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from diemcau.asr.errors import TranscriptionError

SAMPLE_RATE = 16000


@dataclass(frozen=True, eq=False)  # holds a numpy array: compare by identity
class Audio:
    """Decoded audio: mono float32 samples at ``SAMPLE_RATE``; ``source`` is the file it came from."""

    samples: np.ndarray = field(repr=False)
    source: Path
    sample_rate: int = SAMPLE_RATE

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def clip(self, start: float, end: float) -> np.ndarray:
        """The samples between ``start`` and ``end`` seconds."""
        return self.samples[int(start * self.sample_rate) : int(end * self.sample_rate)]


def load_audio(path: Path) -> Audio:
    """Decode ``path``; raises ``TranscriptionError`` (audio_missing, audio_unreadable) with the file named."""
    from faster_whisper.audio import decode_audio

    if not path.is_file():
        raise TranscriptionError("audio_missing", path=str(path))
    try:
        samples = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except Exception as error:  # noqa: BLE001 - PyAV raises many types (InvalidDataError, ValueError, ...)
        raise TranscriptionError("audio_unreadable", path=str(path), detail=str(error)[:200]) from error
    if samples.size == 0:
        raise TranscriptionError("audio_unreadable", path=str(path), detail="no audio samples")
    return Audio(samples.astype(np.float32, copy=False), path)
