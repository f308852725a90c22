"""Stage 2: where the speech is, by faster-whisper's Silero VAD."""

from __future__ import annotations

from dataclasses import dataclass

from diemcau.asr.audio import Audio


@dataclass(frozen=True)
class SpeechSpan:
    """A stretch of speech, in seconds from the start of the audio."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class VadSettings:
    """Silero VAD options (faster-whisper's ``VadOptions``); ``max_speech`` keeps spans inside one window."""

    threshold: float = 0.5
    min_silence_ms: int = 300
    speech_pad_ms: int = 400
    max_speech: float = 29.0


def detect_speech(audio: Audio, options: VadSettings) -> tuple[SpeechSpan, ...]:
    """The speech spans of ``audio``, in order; empty for silence."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    vad = VadOptions(
        threshold=options.threshold,
        min_silence_duration_ms=options.min_silence_ms,
        speech_pad_ms=options.speech_pad_ms,
        # VAD pads each side after splitting, so leave room for the padding inside one window.
        max_speech_duration_s=max(1.0, options.max_speech - 2 * options.speech_pad_ms / 1000),
    )
    rate = audio.sample_rate
    return tuple(SpeechSpan(s["start"] / rate, s["end"] / rate) for s in get_speech_timestamps(audio.samples, vad))
