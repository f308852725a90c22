"""Stage 5: transcribe decoding windows with faster-whisper, one at a time or in batches.

Defaults (see docs/transcription.md for the measurements behind them): ``language="vi"`` always (never detect),
``temperature=0`` with no fallback, ``condition_on_previous_text=False``, ``no_repeat_ngram_size=3`` — the
combination that made base deterministic and stopped its repetition loops on Vietnamese — and no skipping of
windows Whisper believes silent (``no_speech_threshold`` off): the VAD already chose what is speech, and
Whisper marks synthetic or noisy Vietnamese speech as "no speech" with p≈0.95.

Two guards keep audio from being lost: a window whose output echoes the glossary prompt or the lecture's
vocabulary (hotwords) is decoded again without them, and a window whose segments leave too much of its speech uncovered is decoded again as one
segment (``without_timestamps``), which cannot skip ahead. A third drops the sign-offs of video channels that
Whisper invents over silence and noise (``hallucination.py``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from diemcau.asr.audio import Audio
from diemcau.asr.coverage import drops_speech, uncovered_seconds
from diemcau.asr.hallucination import drop_hallucinations
from diemcau.asr.prompt import is_prompt_echo
from diemcau.asr.windows import Window
from diemcau.core.transcript import Segment, Word

PROMPT_ECHO = "prompt_echo"
COVERAGE_RETRY = "coverage_retry"
NO_TEXT = "no_text"
HALLUCINATION = "hallucination"
# Measured: when a window starts right on speech (a file that opens with a voice), base skipped the whole
# first sentence in 2 of 2 cases; half a second of silence before the window fixed both.
LEAD_IN_SECONDS = 0.5
TAIL_TOLERANCE_SECONDS = 0.7  # VAD pads speech by 0.4 s; a segment ending this close to the end has covered it


@dataclass(frozen=True)
class DecodingOptions:
    """What faster-whisper is asked to do for every window."""

    language: str = "vi"
    beam_size: int = 5
    temperature: float = 0.0
    condition_on_previous_text: bool = False
    no_repeat_ngram_size: int = 3
    no_speech_threshold: float = 1.0
    word_timestamps: bool = True
    initial_prompt: str | None = None
    hotwords: str | None = None  # the lecture's vocabulary (asr/vocabulary.py), given to every window

    def whisper_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``WhisperModel.transcribe`` (and the batched pipeline)."""
        kwargs = asdict(self)
        kwargs["no_speech_threshold"] = None if self.no_speech_threshold >= 1.0 else self.no_speech_threshold
        return kwargs


@dataclass(frozen=True)
class WindowResult:
    """A decoded window: its segments in lecture time, the guards that fired, and the seconds it took."""

    window: Window
    segments: tuple[Segment, ...]
    notes: tuple[str, ...] = ()
    decode_seconds: float = 0.0
    attempt: int = 1


def decoded_text(text: str) -> str:
    """Whisper's text without U+FFFD. Whisper writes bytes, one byte-level token at a time, and a small model
    sometimes emits a token sequence that is not valid UTF-8 (a Vietnamese letter's lead byte followed by no
    continuation, "qu\ufffdt"); the tokenizer decodes each such sequence as the replacement character, which
    would reach captions, search and exports as a visible "\ufffd". The broken letter is dropped instead."""
    return text.replace("\ufffd", "")


def to_segments(raw: Iterable[Any], offset: float, floor: float = 0.0) -> tuple[Segment, ...]:
    """faster-whisper segments (window time) as transcript segments (lecture time, none before ``floor``), their
    text and words cleaned by ``decoded_text``: nothing past this boundary holds U+FFFD."""
    at = lambda t: max(floor, float(t) + offset)  # noqa: E731
    return tuple(
        Segment(
            0,
            at(s.start),
            at(s.end),
            decoded_text(s.text),
            tuple(Word(at(w.start), at(w.end), decoded_text(w.word), float(w.probability)) for w in s.words or ()),
        )
        for s in raw
    )


def lead_in(audio: Audio, window: Window) -> np.ndarray:
    """The window's samples after ``LEAD_IN_SECONDS`` of silence (see the constant)."""
    silence = np.zeros(int(LEAD_IN_SECONDS * audio.sample_rate), dtype=audio.samples.dtype)
    return np.concatenate([silence, audio.clip(window.start, window.end)])


def until_speech_ends(raw: Iterable[Any], speech_end: float) -> Iterator[Any]:
    """faster-whisper's segments up to the one that reaches ``speech_end`` (window time), then stop.

    After each 30-s pass faster-whisper seeks to the last word and decodes what is left as another full pass;
    in a window cut to its speech, what is left is padding (where base invents a word or two). Stopping the
    lazy generator once the speech is covered saves that pass; if the output stops short, it runs on.
    """
    for segment in raw:
        yield segment
        if segment.end >= speech_end - TAIL_TOLERANCE_SECONDS:
            return


def _decode(model: Any, audio: Audio, window: Window, kwargs: dict[str, Any]) -> tuple[Segment, ...]:
    raw, _ = model.transcribe(lead_in(audio, window), vad_filter=False, **kwargs)
    speech_end = window.speech[-1].end - window.start + LEAD_IN_SECONDS if window.speech else float("inf")
    return to_segments(until_speech_ends(raw, speech_end), window.start - LEAD_IN_SECONDS, window.start)


def text_of(segments: Sequence[Segment]) -> str:
    """The segments' text, joined."""
    return " ".join(s.text for s in segments)


def guard(
    model: Any,
    audio: Audio,
    window: Window,
    options: DecodingOptions,
    segments: tuple[Segment, ...],
) -> tuple[tuple[Segment, ...], tuple[str, ...]]:
    """Apply the echo, coverage and hallucination guards to a window's first decoding; returns what to keep."""
    notes: list[str] = []
    prompt = " ".join(p for p in (options.initial_prompt, options.hotwords) if p) or None
    if is_prompt_echo(text_of(segments), prompt):
        notes.append(PROMPT_ECHO)
        options = replace(options, initial_prompt=None, hotwords=None)
        segments = _decode(model, audio, window, options.whisper_kwargs())
    if drops_speech(window.speech, segments):
        notes.append(COVERAGE_RETRY)
        retry = _decode(model, audio, window, options.whisper_kwargs() | {"without_timestamps": True})
        if uncovered_seconds(window.speech, retry) < uncovered_seconds(window.speech, segments):
            segments = retry
    segments, dropped = drop_hallucinations(segments)
    if dropped:
        notes.append(HALLUCINATION)
    if not any(s.text.strip() for s in segments):
        notes.append(NO_TEXT)
    return segments, tuple(notes)


def transcribe_window(model: Any, audio: Audio, window: Window, options: DecodingOptions) -> WindowResult:
    """Decode one window with ``WhisperModel.transcribe``, guarded (see the module doc)."""
    started = time.perf_counter()
    segments = _decode(model, audio, window, options.whisper_kwargs())
    segments, notes = guard(model, audio, window, options, segments)
    return WindowResult(window, segments, notes, time.perf_counter() - started)


def transcribe_batch(
    model: Any,
    audio: Audio,
    windows: Sequence[Window],
    options: DecodingOptions,
) -> list[WindowResult]:
    """Decode several windows in one batch (``BatchedInferencePipeline``), then guard each one."""
    from faster_whisper import BatchedInferencePipeline

    started = time.perf_counter()
    pieces = [lead_in(audio, w) for w in windows]
    starts = np.cumsum([0] + [len(p) for p in pieces[:-1]]) / audio.sample_rate
    clips = [{"start": float(at), "end": float(at) + len(p) / audio.sample_rate} for at, p in zip(starts, pieces)]
    raw, _ = BatchedInferencePipeline(model).transcribe(
        np.concatenate(pieces),
        clip_timestamps=clips,
        batch_size=len(windows),
        without_timestamps=False,
        **options.whisper_kwargs(),
    )
    by_seek: dict[int, list[Any]] = {}
    for segment in raw:  # the batched pipeline marks each segment with its clip's offset, in frames
        by_seek.setdefault(segment.seek, []).append(segment)
    share = (time.perf_counter() - started) / len(windows)
    results = []
    for window, at in zip(windows, starts):
        begun = time.perf_counter()
        seek = int(int(at * audio.sample_rate) / audio.sample_rate * model.frames_per_second)  # as faster-whisper
        offset = window.start - LEAD_IN_SECONDS - at
        mine = to_segments(by_seek.get(seek, ()), offset, window.start)
        segments, notes = guard(model, audio, window, options, mine)
        results.append(WindowResult(window, segments, notes, share + time.perf_counter() - begun))
    return results
