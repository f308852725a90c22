"""Stage 6: clean text and times — NFC, single spaces, no empty segments, times monotonic and inside the audio."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from diemcau.core.transcript import Segment, Word


def normalise_text(text: str) -> str:
    """NFC, whitespace collapsed to single spaces, trimmed (Vietnamese tone marks are composed, not stacked)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _words(words: Iterable[Word], start: float, end: float) -> tuple[Word, ...]:
    kept: list[Word] = []
    cursor = start
    for word in words:
        text = normalise_text(word.text)
        if not text:
            continue
        w_start = _clamp(word.start, cursor, end)
        w_end = _clamp(word.end, w_start, end)
        kept.append(Word(round(w_start, 3), round(w_end, 3), " " + text, round(word.probability, 4)))
        cursor = w_start
    return tuple(kept)


def normalise_segments(segments: Iterable[Segment], duration: float, first_index: int = 0) -> tuple[Segment, ...]:
    """Segments with clean text, renumbered from ``first_index``, starts never decreasing, all inside
    ``[0, duration]``; segments without text are dropped. Words keep faster-whisper's leading space."""
    kept: list[Segment] = []
    cursor = 0.0
    for segment in segments:
        text = normalise_text(segment.text)
        if not text:
            continue
        start = _clamp(segment.start, cursor, duration)
        end = _clamp(segment.end, start, duration)
        words = _words(segment.words, start, end)
        kept.append(Segment(first_index + len(kept), round(start, 3), round(end, 3), text, words))
        cursor = start
    return tuple(kept)
