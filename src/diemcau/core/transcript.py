"""Transcripts: segments of speech with words and times. Shared by transcription, captions and search."""

from __future__ import annotations

from dataclasses import dataclass, field

TRANSCRIPT_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Word:
    """One recognised word with its time span (seconds) and Whisper's probability."""

    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    """One stretch of speech: ``index`` is its stable position in the transcript (used by corrections)."""

    index: int
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    """A lecture's transcript and how it was made (``source``: whisper, captions or correction)."""

    lecture_id: str
    language: str
    segments: tuple[Segment, ...]
    source: str = "whisper"
    model: str = ""
    settings: dict[str, object] = field(default_factory=dict)
    version: int = TRANSCRIPT_FORMAT_VERSION

    @property
    def duration(self) -> float:
        return self.segments[-1].end if self.segments else 0.0

    @property
    def text(self) -> str:
        return "\n".join(s.text for s in self.segments)
