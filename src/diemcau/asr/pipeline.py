"""Stage 7: the transcription pipeline — decode, VAD, windows, decoding, normalise — as one lazy stream.

``transcribe_audio`` runs the stages in order over a lecture's audio. Windows are decoded lazily, one (or one
batch) at a time, and each finished window is reported to ``on_progress`` as soon as it is decoded, with the
position reached in the audio, so callers show a percentage and can publish a partial transcript. With a
checkpoint folder, every finished window is recorded there first, and a later run of the same work skips the
windows already done. The caller stores the result (``adapters.transcript_store`` / ``transcript_edits``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from diemcau.asr.audio import Audio, load_audio
from diemcau.asr.checkpoint import Checkpoint, fingerprint
from diemcau.asr.coverage import covered_seconds
from diemcau.asr.decoding import (
    LEAD_IN_SECONDS,
    DecodingOptions,
    WindowResult,
    transcribe_batch,
    transcribe_window,
)
from diemcau.asr.normalise import normalise_segments
from diemcau.asr.prompt import glossary_file, glossary_prompt, load_glossary
from diemcau.asr.vad import SpeechSpan, VadSettings, detect_speech
from diemcau.asr.vocabulary import lecture_vocabulary
from diemcau.asr.windows import Window, plan_windows
from diemcau.core.transcript import Transcript
from diemcau.i18n import t
from diemcau.settings import Settings

ASR_VERSION = 2  # 2: hallucinated channel sign-offs dropped
WHISPER_SECONDS = 30.0


@dataclass(frozen=True)
class PipelineOptions:
    """Everything that shapes a transcription besides the model and the audio."""

    decoding: DecodingOptions = DecodingOptions()
    vad: VadSettings = VadSettings()
    window_seconds: float = 30.0
    batch_size: int = 1

    def describe(self) -> dict[str, Any]:
        """The options as plain data, for the transcript and the checkpoint fingerprint."""
        return {
            "decoding": asdict(self.decoding),
            "vad": asdict(self.vad),
            "window_seconds": self.window_seconds,
            "batch_size": self.batch_size,
        }


GPU_BATCH = 8  # windows decoded together on a GPU when transcription.batch_size is 0 (auto)


def batch_size_for(setting: int, device: str) -> int:
    """Windows decoded together: the setting, or with 0 (auto) ``GPU_BATCH`` on CUDA and 1 on CPU (pure)."""
    return setting or (GPU_BATCH if device == "cuda" else 1)


def options_from_settings(settings: Settings, documents: Sequence[str] = (), device: str = "cpu") -> PipelineOptions:
    """The pipeline options of the ``transcription`` settings, with the glossary prompt when enabled, the
    vocabulary of the glossary and ``documents`` (the lecture's materials' text) as hotwords when enabled, and
    windows batched on ``device`` as ``batch_size_for`` says (the loaded model's device)."""
    conf = settings.transcription
    glossary = load_glossary(glossary_file(settings.courses_dir))
    prompt = glossary_prompt(glossary) if conf.glossary_prompt else None
    hotwords = glossary_prompt(lecture_vocabulary(glossary, documents)) if conf.document_vocabulary else None
    decoding_options = DecodingOptions(
        beam_size=conf.beam_size,
        temperature=conf.temperature,
        no_repeat_ngram_size=conf.no_repeat_ngram_size,
        condition_on_previous_text=conf.condition_on_previous_text,
        no_speech_threshold=conf.no_speech_threshold,
        initial_prompt=prompt,
        hotwords=hotwords,
    )
    vad = VadSettings(conf.vad_threshold, conf.vad_min_silence_ms, max_speech=conf.window_seconds - 1)
    return PipelineOptions(decoding_options, vad, conf.window_seconds, batch_size_for(conf.batch_size, device))


@dataclass(frozen=True, eq=False)  # holds a numpy array: compare by identity
class Plan:
    """The audio, the speech VAD found in it, and the windows that will be decoded."""

    audio: Audio
    speech: tuple[SpeechSpan, ...]
    windows: tuple[Window, ...]


def plan_audio(audio: Audio, options: PipelineOptions) -> Plan:
    """Stages 2–3: the speech spans and decoding windows of ``audio``."""
    speech = detect_speech(audio, options.vad)
    # Whisper sees 30 s at a time, and each window is decoded after its lead-in of silence.
    longest = min(options.window_seconds, WHISPER_SECONDS - LEAD_IN_SECONDS)
    return Plan(audio, speech, plan_windows(speech, longest))


@dataclass(frozen=True)
class Progress:
    """One more window finished: what it gave, and how far through the audio the transcription is."""

    result: WindowResult
    results: tuple[WindowResult, ...]
    plan: Plan
    resumed: bool

    @property
    def position(self) -> float:
        """Seconds of audio handled so far (the end of the newest finished window)."""
        return self.result.window.end

    @property
    def percent(self) -> float:
        duration = self.plan.audio.duration
        return 100.0 * min(1.0, self.position / duration) if duration else 100.0


def stream_windows(
    model: Any, plan: Plan, options: PipelineOptions, done: Mapping[int, WindowResult] | None = None, attempt: int = 1
) -> Iterator[WindowResult]:
    """Each window's result in order, lazily: taken from ``done`` when there, else decoded now."""
    done = done or {}
    windows = plan.windows
    for first in range(0, len(windows), options.batch_size):
        group = windows[first : first + options.batch_size]
        todo = [w for w in group if w.index not in done]
        fresh: dict[int, WindowResult] = {}
        if len(todo) > 1:
            fresh = {r.window.index: r for r in transcribe_batch(model, plan.audio, todo, options.decoding)}
        for window in group:
            if window.index in done:
                yield done[window.index]
                continue
            result = fresh.get(window.index) or transcribe_window(model, plan.audio, window, options.decoding)
            yield replace(result, attempt=attempt)


def _notes(plan: Plan, results: Sequence[WindowResult]) -> list[dict[str, Any]]:
    notes = [] if plan.speech else [{"code": "no_speech", "message": t("asr.note_no_speech")}]
    for result in results:
        for code in result.notes:
            w = result.window
            notes.append(
                {
                    "code": code,
                    "start": round(w.start, 3),
                    "end": round(w.end, 3),
                    "message": t(f"asr.note_{code}", start=f"{w.start:.1f}", end=f"{w.end:.1f}"),
                }
            )
    return notes


def assemble(
    lecture_id: str,
    plan: Plan,
    results: Sequence[WindowResult],
    model: Mapping[str, Any],
    options: PipelineOptions,
    partial: bool = False,
    resumed_windows: int = 0,
) -> Transcript:
    """The transcript of the windows in ``results`` (all of them, or those done so far with ``partial``)."""
    ordered = sorted(results, key=lambda r: r.window.index)
    segments = normalise_segments((s for r in ordered for s in r.segments), plan.audio.duration)
    speech = sum(r.window.speech_seconds for r in ordered)
    covered = sum(covered_seconds(r.window.speech, r.segments) for r in ordered)
    settings = {
        "asr_version": ASR_VERSION,
        **model,
        **options.describe(),
        "audio_seconds": round(plan.audio.duration, 3),
        "speech_seconds": round(speech, 3),
        "coverage": round(covered / speech, 4) if speech else 1.0,
        "windows": len(plan.windows),
        "windows_done": len(ordered),
        "resumed_windows": resumed_windows,
        "window_attempts": [r.attempt for r in ordered],
        "partial": partial,
        "notes": _notes(plan, ordered),
    }
    return Transcript(lecture_id, "vi", segments, "whisper", str(model.get("model", "")), settings)


def audio_sha256(path: Path) -> str:
    """SHA-256 of a file (part of a checkpoint's fingerprint)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def transcribe_audio(
    model: Any,
    model_info: Mapping[str, Any],
    audio_path: Path,
    lecture_id: str,
    options: PipelineOptions,
    checkpoint_dir: Path | None = None,
    attempt: int = 1,
    on_progress: Callable[[Progress], None] | None = None,
) -> Transcript:
    """Run every stage on ``audio_path`` and return the lecture's transcript (not yet stored).

    ``model`` is a faster-whisper ``WhisperModel``; ``model_info`` describes it for the transcript. Raises
    ``TranscriptionError`` for audio that is missing or cannot be decoded.
    """
    plan = plan_audio(load_audio(audio_path), options)
    checkpoint, done = None, {}
    if checkpoint_dir is not None:
        work = {
            "audio": audio_sha256(audio_path),
            "model": dict(model_info),
            "asr_version": ASR_VERSION,
            **options.describe(),
        }
        checkpoint = Checkpoint(checkpoint_dir, fingerprint(work))
        done = checkpoint.load()
        checkpoint.start()
    results: list[WindowResult] = []
    for result in stream_windows(model, plan, options, done, attempt):
        resumed = result.window.index in done
        if checkpoint is not None and not resumed:
            checkpoint.record(result)
        results.append(result)
        if on_progress is not None:
            on_progress(Progress(result, tuple(results), plan, resumed))
    return assemble(lecture_id, plan, results, model_info, options, resumed_windows=len(done))
