"""Never drop audio: how much of the speech the VAD found is covered by the segments of the output (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from diemcau.asr.vad import SpeechSpan
from diemcau.core.transcript import Segment

MIN_GAP_SECONDS = 3.0  # VAD pads speech by 0.4 s each side, so a few tenths uncovered per span is normal
MAX_UNCOVERED_SHARE = 0.35


def _union(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def covered_seconds(speech: Sequence[SpeechSpan], segments: Sequence[Segment]) -> float:
    """Seconds of ``speech`` that lie inside some segment with text."""
    covered = _union((s.start, s.end) for s in segments if s.text.strip())
    return sum(max(0.0, min(span.end, end) - max(span.start, start)) for span in speech for start, end in covered)


def uncovered_seconds(speech: Sequence[SpeechSpan], segments: Sequence[Segment]) -> float:
    """Seconds of ``speech`` that no segment covers."""
    return max(0.0, sum(span.duration for span in speech) - covered_seconds(speech, segments))


def drops_speech(speech: Sequence[SpeechSpan], segments: Sequence[Segment]) -> bool:
    """Does the output leave out more speech than VAD padding explains (so the window must be decoded again)?"""
    total = sum(span.duration for span in speech)
    if total == 0:
        return False
    gap = uncovered_seconds(speech, segments)
    return not any(s.text.strip() for s in segments) or gap > max(MIN_GAP_SECONDS, MAX_UNCOVERED_SHARE * total)
