"""Cues, the unit of every caption format, and their conversion to and from transcript segments (pure)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from diemcau.core.transcript import Segment, Transcript


class CaptionError(ValueError):
    """A caption file is malformed at ``line`` (1-based; 0 when the whole file is at fault).

    ``message_key`` names a message in the i18n catalogue (table ``transcript``); ``params`` fill it in.
    """

    def __init__(self, line: int, message_key: str, params: dict[str, object] | None = None) -> None:
        self.line = line
        self.message_key = message_key
        self.params = dict(params or {})
        super().__init__(f"line {line}: {message_key} {self.params}")


@dataclass(frozen=True)
class Cue:
    """One caption: a time span and its plain text; ``line`` is where it starts in the source file."""

    start: float
    end: float
    text: str
    line: int = 0


@dataclass(frozen=True)
class CaptionFile:
    """A parsed caption file: its cues in time order and the format it was written in."""

    format: str
    cues: tuple[Cue, ...] = field(default_factory=tuple)


_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t]+")


def strip_tags(text: str) -> str:
    """Cue text without markup (``<i>``, ``<c.x>``, ``<v Speaker>``, ``<00:01.000>``), entities decoded."""
    lines = (_SPACES.sub(" ", html.unescape(_TAG.sub("", line))).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def check_order(cues: list[Cue]) -> tuple[Cue, ...]:
    """Cues in time order. Policy: cues out of order are sorted (exporters often shuffle them); cues that
    overlap are kept, since speakers do talk over each other and WebVTT allows it; a cue that starts before
    the previous one ends is clipped only when rendering needs it, never here."""
    return tuple(sorted(cues, key=lambda cue: (cue.start, cue.end, cue.line)))


def cues_to_transcript(caption: CaptionFile, lecture_id: str, language: str = "vi") -> Transcript:
    """A transcript from imported captions: one segment per cue, lines joined by spaces, no word times."""
    segments = tuple(
        Segment(index=i, start=cue.start, end=cue.end, text=" ".join(cue.text.split("\n")))
        for i, cue in enumerate(caption.cues)
    )
    return Transcript(
        lecture_id=lecture_id,
        language=language,
        segments=segments,
        source="captions",
        settings={"caption_format": caption.format},
    )


def transcript_cues(transcript: Transcript) -> tuple[Cue, ...]:
    """The cues of a transcript, one per non-empty segment."""
    cues = []
    for segment in transcript.segments:
        # A blank line would end a cue early in WebVTT and SRT, so blank lines inside a text are dropped.
        text = "\n".join(line.strip() for line in segment.text.splitlines() if line.strip())
        if text:
            cues.append(Cue(segment.start, segment.end, text))
    return tuple(cues)
