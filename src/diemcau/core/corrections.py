"""Trainer corrections of a transcript: validate and apply one edit, and carry every edit over to a new
transcript of the same lecture (pure).

An edit records the whole segment state (text, start, end) before and after, so history reads on its own
and re-application needs nothing else.

**Re-application rule (``reapply_corrections``).** Segment numbers mean nothing across two transcriptions,
so corrections are carried over by *time*. Each corrected segment wins its time span in the new
transcript: new segments inside a corrected span are replaced by it; a new segment that only partly
overlaps keeps the words (by word timestamps) that lie outside, or, without word times, is dropped when the
span covers most of it and trimmed otherwise. Then the corrected segments are inserted and the segments
renumbered. A correction whose span holds no new segment at all (Whisper's VAD dropped that audio) is
still inserted, so no correction is ever lost.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from typing import Any

from diemcau.core.transcript import Segment, Transcript, Word

MAX_SEGMENT_TEXT = 2000
# The editor of the corrections the system makes from the lecture's documents (asr/doc_align.py). They are
# versioned like a trainer's, but derived: a new transcription drops them and aligns again, while a trainer's
# correction is carried over (``trainer_edits``). No hub username contains a colon.
SYSTEM_EDITOR = "system:documents"
_TOLERANCE = 0.0005  # times are stored to the millisecond


class CorrectionError(ValueError):
    """An edit is refused; ``message_key`` names a message in the ``transcript`` catalogue table."""

    def __init__(self, message_key: str, **params: object) -> None:
        self.message_key = message_key
        self.params = params
        super().__init__(f"{message_key} {params}")


@dataclass(frozen=True)
class SegmentState:
    """What an edit changed: a segment's text and time span."""

    start: float
    end: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "text": self.text}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentState:
        return cls(float(data["start"]), float(data["end"]), str(data["text"]))

    @classmethod
    def of(cls, segment: Segment) -> SegmentState:
        return cls(segment.start, segment.end, segment.text)


@dataclass(frozen=True)
class TranscriptEdit:
    """One recorded correction: who changed which segment when, from what to what."""

    lecture_id: str
    segment_index: int
    editor: str
    at: dt.datetime
    before: SegmentState
    after: SegmentState
    id: int = 0

    @property
    def changed(self) -> tuple[str, ...]:
        """Which of ``text``, ``start``, ``end`` the edit changed."""
        return tuple(f for f in ("text", "start", "end") if getattr(self.before, f) != getattr(self.after, f))


def trainer_edits(edits: list[TranscriptEdit]) -> list[TranscriptEdit]:
    """The edits a person made (not ``SYSTEM_EDITOR``): those a new transcription must keep."""
    return [e for e in edits if e.editor != SYSTEM_EDITOR]


def corrected_indexes(transcript: Transcript, edits: list[TranscriptEdit]) -> set[int]:
    """The indexes of the segments that hold the last state of a chain of ``edits`` (a trainer's text)."""
    spans = corrected_spans(edits)
    return {s.index for s in transcript.segments if any(_same(SegmentState.of(s), span) for span in spans)}


def current_segment(transcript: Transcript, state: SegmentState) -> Segment | None:
    """The segment of ``transcript`` whose text and times are ``state`` (an edit's result still in place)."""
    return next((s for s in transcript.segments if _same(SegmentState.of(s), state)), None)


def corrected_segment(
    transcript: Transcript, index: int, text: str | None = None, start: float | None = None, end: float | None = None
) -> tuple[Segment, Segment]:
    """The segment at ``index`` before and after the edit. Raises ``CorrectionError`` when it is not allowed.

    Rules: the segment exists; something changes; text is not blank; times are finite, ``0 <= start < end``;
    the new span does not overlap a neighbour more than the old span already did.
    """
    position = _position(transcript, index)
    old = transcript.segments[position]
    if text is None and start is None and end is None:
        raise CorrectionError("edit_empty")
    new_text = old.text if text is None else " ".join(text.split())
    if not new_text:
        raise CorrectionError("edit_text_empty")
    if len(new_text) > MAX_SEGMENT_TEXT:
        raise CorrectionError("edit_text_too_long", limit=MAX_SEGMENT_TEXT)
    new_start = old.start if start is None else _time(start)
    new_end = old.end if end is None else _time(end)
    _check_span(transcript, position, old, new_start, new_end)
    if (new_text, new_start, new_end) == (old.text, old.start, old.end):
        raise CorrectionError("edit_no_change")
    words = () if new_text != old.text else _clip_words(old.words, new_start, new_end)
    return old, replace(old, start=new_start, end=new_end, text=new_text, words=words)


def apply_correction(transcript: Transcript, new_segment: Segment) -> Transcript:
    """The transcript with the segment of the same index replaced by ``new_segment``."""
    segments = tuple(new_segment if s.index == new_segment.index else s for s in transcript.segments)
    return replace(transcript, segments=segments)


def _position(transcript: Transcript, index: int) -> int:
    for position, segment in enumerate(transcript.segments):
        if segment.index == index:
            return position
    raise CorrectionError("segment_not_found", index=index, count=len(transcript.segments))


def _time(value: float) -> float:
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise CorrectionError("edit_bad_time", value=value)
    return round(seconds, 3)


def _check_span(transcript: Transcript, position: int, old: Segment, start: float, end: float) -> None:
    if end <= start:
        raise CorrectionError("edit_end_before_start", start=start, end=end)
    segments = transcript.segments
    if position > 0:
        previous = segments[position - 1]
        if start < min(previous.end, old.start) - _TOLERANCE:
            raise CorrectionError("edit_overlaps_previous", start=start, limit=min(previous.end, old.start))
    if position + 1 < len(segments):
        following = segments[position + 1]
        if end > max(following.start, old.end) + _TOLERANCE:
            raise CorrectionError("edit_overlaps_next", end=end, limit=max(following.start, old.end))


def _clip_words(words: tuple[Word, ...], start: float, end: float) -> tuple[Word, ...]:
    kept = (w for w in words if w.end > start and w.start < end)
    return tuple(replace(w, start=max(w.start, start), end=min(w.end, end)) for w in kept)


def corrected_spans(edits: list[TranscriptEdit]) -> list[SegmentState]:
    """The final state of every corrected segment: an edit continues an earlier one when its ``before``
    is that edit's ``after`` (the same segment edited again), otherwise it starts a new corrected span."""
    spans: list[SegmentState] = []
    for edit in sorted(edits, key=lambda e: (e.at, e.id)):
        spans = [s for s in spans if not _same(s, edit.before)]
        spans.append(edit.after)
    return sorted(spans, key=lambda s: (s.start, s.end))


def _same(a: SegmentState, b: SegmentState) -> bool:
    return a.text == b.text and abs(a.start - b.start) <= _TOLERANCE and abs(a.end - b.end) <= _TOLERANCE


def reapply_corrections(transcript_new: Transcript, edits: list[TranscriptEdit]) -> Transcript:
    """``transcript_new`` with every correction in ``edits`` carried over by time (rule in the module doc)."""
    spans = corrected_spans(edits)
    if not spans:
        return transcript_new
    kept = [s for seg in transcript_new.segments if (s := _outside(seg, spans)) is not None]
    inserted = [Segment(index=0, start=s.start, end=s.end, text=s.text) for s in spans]
    ordered = sorted(kept + inserted, key=lambda s: (s.start, s.end))
    return replace(transcript_new, segments=tuple(replace(s, index=i) for i, s in enumerate(ordered)))


def _overlap(start: float, end: float, span: SegmentState) -> float:
    return max(0.0, min(end, span.end) - max(start, span.start))


def _outside(segment: Segment, spans: list[SegmentState]) -> Segment | None:
    """What of ``segment`` lies outside the corrected spans, or None when nothing does."""
    if not any(_overlap(segment.start, segment.end, s) > 0 for s in spans):
        return segment
    if segment.words:
        return _outside_by_words(segment, spans)
    covered = sum(_overlap(segment.start, segment.end, s) for s in spans)
    if covered >= 0.5 * (segment.end - segment.start):
        return None
    start, end = segment.start, segment.end
    for span in spans:
        if _overlap(start, end, span) > 0 and span.start <= start:
            start = span.end
        elif _overlap(start, end, span) > 0 and span.end >= end:
            end = span.start
    return replace(segment, start=start, end=end) if end > start else None


def _outside_by_words(segment: Segment, spans: list[SegmentState]) -> Segment | None:
    words = tuple(w for w in segment.words if not any(s.start <= (w.start + w.end) / 2 <= s.end for s in spans))
    if not words:
        return None
    if len(words) == len(segment.words):
        return segment
    # faster-whisper words carry their leading space; words from elsewhere may not.
    glue = "" if any(w.text[:1].isspace() for w in words) else " "
    text = glue.join(w.text for w in words).strip()
    return replace(segment, start=words[0].start, end=words[-1].end, text=text, words=words)
