"""The JSON form of a transcript (``transcript.json``): to and from plain dicts (pure).

Shape (``version`` is the format version, ``TRANSCRIPT_FORMAT_VERSION``)::

    {"version": 1, "lecture_id": "...", "language": "vi", "source": "whisper|captions|correction",
     "model": "...", "settings": {...}, "duration": 12.3,
     "segments": [{"index": 0, "start": 0.0, "end": 2.5, "text": "...",
                   "words": [{"start": 0.0, "end": 0.4, "text": "...", "probability": 0.93}]}]}
"""

from __future__ import annotations

from typing import Any

from diemcau.core.transcript import TRANSCRIPT_FORMAT_VERSION, Segment, Transcript, Word


class TranscriptFormatError(ValueError):
    """A ``transcript.json`` does not have the expected shape; the message names the field."""


def transcript_to_dict(transcript: Transcript) -> dict[str, Any]:
    """A JSON-ready dict of ``transcript`` (times rounded to the millisecond)."""
    return {
        "version": transcript.version,
        "lecture_id": transcript.lecture_id,
        "language": transcript.language,
        "source": transcript.source,
        "model": transcript.model,
        "settings": dict(transcript.settings),
        "duration": _ms(transcript.duration),
        "segments": [segment_to_dict(s) for s in transcript.segments],
    }


def segment_to_dict(segment: Segment) -> dict[str, Any]:
    """A JSON-ready dict of one segment with its words."""
    return {
        "index": segment.index,
        "start": _ms(segment.start),
        "end": _ms(segment.end),
        "text": segment.text,
        "words": [
            {"start": _ms(w.start), "end": _ms(w.end), "text": w.text, "probability": round(w.probability, 4)}
            for w in segment.words
        ],
    }


def transcript_from_dict(data: dict[str, Any]) -> Transcript:
    """The transcript a dict describes. Raises ``TranscriptFormatError`` naming a missing or bad field."""
    try:
        version = int(data.get("version", TRANSCRIPT_FORMAT_VERSION))
        if version > TRANSCRIPT_FORMAT_VERSION:
            raise TranscriptFormatError(f"transcript format version {version} is newer than this program")
        segments = tuple(_segment(i, s) for i, s in enumerate(data["segments"]))
        return Transcript(
            lecture_id=str(data["lecture_id"]),
            language=str(data.get("language", "vi")),
            segments=segments,
            source=str(data.get("source", "whisper")),
            model=str(data.get("model", "")),
            settings=dict(data.get("settings") or {}),
            version=version,
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, TranscriptFormatError):
            raise
        raise TranscriptFormatError(f"transcript.json is malformed: {exc!r}") from None


def _segment(position: int, data: dict[str, Any]) -> Segment:
    words = tuple(
        Word(float(w["start"]), float(w["end"]), str(w["text"]), float(w.get("probability", 1.0)))
        for w in data.get("words") or ()
    )
    return Segment(
        index=int(data.get("index", position)),
        start=float(data["start"]),
        end=float(data["end"]),
        text=str(data["text"]),
        words=words,
    )


def _ms(seconds: float) -> float:
    return round(seconds, 3)
