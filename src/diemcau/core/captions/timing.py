"""The ``start --> end [settings]`` line shared by WebVTT and SRT (pure)."""

from __future__ import annotations

from diemcau.core.captions.cues import CaptionError
from diemcau.core.captions.timestamps import parse_timestamp


def looks_like_timing(text: str) -> bool:
    """Whether a line starts with a timestamp, so a missing arrow there is a broken timing line, not an id."""
    parts = text.split()
    return bool(parts) and parse_timestamp(parts[0]) is not None


def parse_timing_line(text: str, line: int, separators: str) -> tuple[float, float]:
    """Start and end seconds of a timing line; cue settings after the end time are ignored.

    Raises ``CaptionError`` at ``line`` for a missing arrow, a bad timestamp or an end not after the start.
    """
    if "-->" not in text:
        raise CaptionError(line, "caption_missing_arrow", {"text": text[:60]})
    left, right = text.split("-->", 1)
    right_parts = right.split()
    start = parse_timestamp(left, separators)
    if start is None:
        raise CaptionError(line, "caption_bad_timestamp", {"text": left.strip()[:40]})
    end = parse_timestamp(right_parts[0], separators) if right_parts else None
    if end is None:
        raise CaptionError(line, "caption_bad_timestamp", {"text": (right_parts or [""])[0][:40]})
    if end <= start:
        raise CaptionError(line, "caption_end_before_start", {"start": left.strip(), "end": right_parts[0]})
    return start, end
