"""Where Whisper was unsure: low-probability words, so the trainer checks those segments first.

Pure, over segments as ``GET /api/lectures/{id}/transcript?words=true`` returns them: each word carries
faster-whisper's ``probability`` (0–1). A corrected segment has no words (its text no longer matches the old
word times), so it never counts as unsure again.
"""

from __future__ import annotations

from typing import Any

UNSURE_BELOW = 0.5  # word probability under which a word is highlighted
_MARKDOWN_SPECIALS = "\\`*_{}[]()#+-.!|<>:~$"


def unsure_words(segment: dict[str, Any], threshold: float = UNSURE_BELOW) -> list[int]:
    """Indexes of the segment's words whose probability is under ``threshold``."""
    return [i for i, w in enumerate(segment.get("words") or []) if float(w.get("probability", 1.0)) < threshold]


def is_unsure(segment: dict[str, Any], threshold: float = UNSURE_BELOW) -> bool:
    """Has the segment at least one unsure word?"""
    return bool(unsure_words(segment, threshold))


def next_unsure(segments: list[dict[str, Any]], after: int, threshold: float = UNSURE_BELOW) -> int | None:
    """The position (in ``segments``) of the first unsure segment after position ``after``, wrapping around;
    ``None`` when no segment is unsure."""
    count = len(segments)
    for step in range(1, count + 1):
        position = (after + step) % count
        if is_unsure(segments[position], threshold):
            return position
    return None


def escape_markdown(text: str) -> str:
    """``text`` with Markdown's special characters escaped, so a transcript shows as written."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIALS else c for c in text)


def highlighted(segment: dict[str, Any], threshold: float = UNSURE_BELOW) -> str:
    """The segment as Streamlit Markdown: unsure words on an orange background with their probability."""
    words = segment.get("words") or []
    if not words:
        return escape_markdown(segment.get("text", ""))
    unsure = set(unsure_words(segment, threshold))
    parts = []
    for i, word in enumerate(words):
        text = escape_markdown(str(word.get("text", "")).strip())
        if i in unsure:
            text = f":orange-background[{text}] :gray[({float(word['probability']):.0%})]"
        parts.append(text)
    return " ".join(parts)
