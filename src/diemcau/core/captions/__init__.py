"""Caption formats, one module per format: WebVTT (``vtt``), SubRip (``srt``) and plain text (``text``).

Everything here is pure: text in, cues or text out. Parse errors are ``CaptionError(line, message_key,
params)``; the messages live in the ``transcript`` table of the i18n catalogue.

Policy for cue order: cues out of time order are *sorted*, not rejected (exporters shuffle them and the
order carries no meaning); overlapping cues are *kept* (speakers overlap, and WebVTT allows it).
"""

from __future__ import annotations

from diemcau.core.captions.blocks import normalise_newlines
from diemcau.core.captions.cues import (
    CaptionError,
    CaptionFile,
    Cue,
    cues_to_transcript,
    strip_tags,
    transcript_cues,
)
from diemcau.core.captions.srt import parse_srt, render_srt
from diemcau.core.captions.text import render_txt
from diemcau.core.captions.timestamps import format_timestamp, parse_timestamp
from diemcau.core.captions.vtt import is_webvtt_header, parse_vtt, render_vtt

__all__ = [
    "CaptionError",
    "CaptionFile",
    "Cue",
    "cues_to_transcript",
    "detect_format",
    "format_timestamp",
    "parse_captions",
    "parse_srt",
    "parse_timestamp",
    "parse_vtt",
    "render_srt",
    "render_txt",
    "render_vtt",
    "strip_tags",
    "transcript_cues",
]


def detect_format(content: str) -> str:
    """``"vtt"`` or ``"srt"`` judged by content, not by file name. Raises ``CaptionError`` otherwise."""
    lines = [line.strip() for line in normalise_newlines(content).split("\n")]
    meaningful = [(number, line) for number, line in enumerate(lines, start=1) if line]
    if not meaningful:
        raise CaptionError(0, "caption_empty")
    if is_webvtt_header(lines[0]) or lines[0] == "WEBVTT":
        return "vtt"
    number, first = meaningful[0]
    second = meaningful[1][1] if len(meaningful) > 1 else ""
    if "-->" in first or (first.isdigit() and "-->" in second):
        return "srt"
    raise CaptionError(number, "caption_unknown_format", {"text": first[:40]})


def parse_captions(content: str) -> CaptionFile:
    """Parse WebVTT or SRT text, detecting which by content."""
    return parse_vtt(content) if detect_format(content) == "vtt" else parse_srt(content)
