"""Stage 3: pack speech spans into decoding windows of at most ``max_seconds`` (pure).

A window is a contiguous stretch of the original audio (from its first span's start to its last span's end),
so times inside it only need its offset added, and it is the unit of work that a checkpoint records. Silence
longer than what fits in a window is never decoded: that is where VAD saves time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from diemcau.asr.vad import SpeechSpan


@dataclass(frozen=True)
class Window:
    """One decoding window: ``index`` in the lecture, its bounds (s), and the speech inside it."""

    index: int
    start: float
    end: float
    speech: tuple[SpeechSpan, ...]

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def speech_seconds(self) -> float:
        return sum(span.duration for span in self.speech)


def split_long(spans: Sequence[SpeechSpan], max_seconds: float) -> list[SpeechSpan]:
    """Cut any span longer than ``max_seconds`` into equal pieces no longer than it."""
    pieces: list[SpeechSpan] = []
    for span in spans:
        count = max(1, -int(-span.duration // max_seconds))
        step = span.duration / count
        pieces.extend(SpeechSpan(span.start + i * step, span.start + (i + 1) * step) for i in range(count))
    return pieces


def plan_windows(spans: Sequence[SpeechSpan], max_seconds: float) -> tuple[Window, ...]:
    """Greedily pack consecutive spans into windows no longer than ``max_seconds``."""
    groups: list[list[SpeechSpan]] = []
    for span in split_long(spans, max_seconds):
        if groups and span.end - groups[-1][0].start <= max_seconds:
            groups[-1].append(span)
        else:
            groups.append([span])
    return tuple(Window(i, g[0].start, g[-1].end, tuple(g)) for i, g in enumerate(groups))
