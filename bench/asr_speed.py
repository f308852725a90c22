"""Transcription speed: real-time factor (RTF = processing time / audio length) of Whisper base int8 on CPU.

Same model, same decoding options, same run, on a ≥5-minute espeak-ng lecture (bench/asr_lecture.py):
  1. baseline: a plain ``WhisperModel.transcribe(file, ...)`` call, consumed to the end;
  2. our pipeline at its defaults (decode, VAD, windows, guards, normalise, checkpoint) — its overhead is
     its CPU time over the baseline's, and the wall time it spends outside ``WhisperModel.transcribe``;
  3. the faster configuration: the pipeline with greedy decoding (beam 1);
  4. the pipeline batched (``BatchedInferencePipeline``, ``--batch-size`` windows at once);
  (with ``--all``) the plain call with faster-whisper's own VAD filter.
Each is printed with wall and CPU time, the ratio of CPU time to the baseline's (CPU time, because other
processes on a shared machine stretch wall time), and its CER, so a faster configuration is seen not to
lose accuracy. Run: ``.venv/bin/python bench/asr_speed.py [--batch-size 4] [--passes 2] [--all]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asr_lecture import build_lecture, cpu_threads  # noqa: E402

from diemcau.adapters.whisper_model import load_whisper_model  # noqa: E402
from diemcau.asr.pipeline import PipelineOptions, transcribe_audio  # noqa: E402
from diemcau.asr.scoring import error_rates  # noqa: E402
from diemcau.settings import load_settings  # noqa: E402


def plain(model, audio: Path, options: PipelineOptions, vad: bool) -> tuple[float, float, str]:  # type: ignore[no-untyped-def]
    """Wall and CPU seconds of a plain ``WhisperModel.transcribe`` call, and its text."""
    started, cpu = time.perf_counter(), time.process_time()
    segments, _ = model.transcribe(str(audio), vad_filter=vad, **options.decoding.whisper_kwargs())
    text = " ".join(s.text for s in segments)
    return time.perf_counter() - started, time.process_time() - cpu, text


def pipeline(loaded, audio: Path, options: PipelineOptions) -> tuple[float, float, str, float]:  # type: ignore[no-untyped-def]
    """Wall and CPU seconds, text, and the wall seconds spent inside the model's decoding calls."""
    inside: list[float] = []
    with tempfile.TemporaryDirectory() as checkpoint:
        started, cpu = time.perf_counter(), time.process_time()
        transcript = transcribe_audio(
            loaded.model,
            loaded.describe(),
            audio,
            "bench",
            options,
            Path(checkpoint),
            on_progress=lambda p: inside.append(p.result.decode_seconds),
        )
        return time.perf_counter() - started, time.process_time() - cpu, transcript.text, sum(inside)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--all", action="store_true", help="also the plain call with faster-whisper's VAD filter")
    parser.add_argument("--passes", type=int, default=2, help="times each paragraph is read (2 → ~6 min)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="asr-speed-"))
    settings = load_settings({"DIEMCAU_HOME": str(home / "var"), "DIEMCAU_CONTENT__COURSES_DIR": str(home)})
    lecture = build_lecture(home, args.passes)
    loaded = load_whisper_model(settings)
    options = PipelineOptions()  # the defaults; no glossary prompt, so all runs decode the same way
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    print(
        f"lecture: {lecture.duration:.0f} s; model {loaded.name} {loaded.device}/{loaded.compute_type}, "
        f"{cpu_threads()} threads, beam {options.decoding.beam_size}"
    )
    greedy = replace(options, decoding=replace(options.decoding, beam_size=1))
    runs = [
        ("baseline: WhisperModel.transcribe", lambda: plain(loaded.model, lecture.audio, options, vad=False)),
        ("pipeline (defaults)", lambda: pipeline(loaded, lecture.audio, options)),
        ("faster: pipeline, greedy (beam 1)", lambda: pipeline(loaded, lecture.audio, greedy)),
        (
            f"pipeline, batched ({args.batch_size} windows)",
            lambda: pipeline(loaded, lecture.audio, replace(options, batch_size=args.batch_size)),
        ),
    ]
    if args.all:
        runs.insert(
            1,
            ("WhisperModel.transcribe, vad_filter=True", lambda: plain(loaded.model, lecture.audio, options, vad=True)),
        )
    print(
        f"{'configuration':42} {'wall s':>7} {'RTF':>6} {'CPU s':>7} {'CPU RTF':>7} {'× baseline':>10} "
        f"{'CER':>6} {'outside model':>13}",
        flush=True,
    )
    base = 0.0
    for name, measure in runs:
        wall, cpu, text, *inside = measure()
        base = base or cpu
        outside = f"{100 * (wall - inside[0]) / wall:12.1f}%" if inside else ""
        cer = error_rates(lecture.reference, text).cer
        print(
            f"{name:42} {wall:7.1f} {wall / lecture.duration:6.3f} {cpu:7.1f} {cpu / lecture.duration:7.3f} "
            f"{base / cpu:9.2f}× {cer:6.3f} {outside}",
            flush=True,
        )
    print(
        f"load average at the end: {os.getloadavg()[0]:.1f} (× baseline compares CPU seconds: other processes on "
        "the machine stretch wall time, much less CPU time)"
    )


if __name__ == "__main__":
    main()
