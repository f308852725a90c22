"""``diemcau transcribe``: transcribe a lecture's audio with Whisper, on the queue or here with a progress bar."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from diemcau.adapters.db import transcription_jobs as jobs
from diemcau.adapters.transcript_edits import CorrectedTranscriptError, check_may_replace
from diemcau.adapters.transcript_import import error_message
from diemcau.adapters.whisper_model import ModelError, check_model_dir
from diemcau.apps.cli.common import factory_or_exit, fail, queue_or_exit
from diemcau.asr.errors import TranscriptionError
from diemcau.asr.pipeline import Progress
from diemcau.jobs.context import WorkerContext, install
from diemcau.jobs.publish import worker_running
from diemcau.jobs.transcribe_task import enqueue_transcription, lecture_audio, run_transcription


def transcribe(
    lecture_id: Annotated[str, typer.Argument(metavar="LECTURE_ID")],
    model: Annotated[
        Optional[Path], typer.Option(help="A CTranslate2 Whisper model folder (default: settings).")
    ] = None,  # noqa: UP007
    audio: Annotated[Optional[Path], typer.Option(help="Audio file to use instead of the lecture's media.")] = None,  # noqa: UP007
    wait: Annotated[bool, typer.Option("--wait", help="Block until done; runs here if no worker is running.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a corrected transcript (corrections re-applied).")
    ] = False,
) -> None:
    """Transcribe a lecture (Vietnamese, Whisper) into the transcript store."""
    settings, factory = factory_or_exit()
    ctx = install(settings)
    if not jobs.lecture_exists(factory, lecture_id):
        fail(f"No lecture {lecture_id!r}: publish it first (diemcau lecture publish ...).")
    try:
        if model:
            check_model_dir(model.absolute())
        audio_file = audio.absolute() if audio else lecture_audio(ctx, lecture_id)
        if not audio_file.is_file():
            raise TranscriptionError("audio_missing", path=str(audio_file))
        check_may_replace(factory, ctx.stores.transcripts, lecture_id, force)
    except ModelError as error:
        fail(str(error))
    except TranscriptionError as error:
        fail(error.message("en"))
    except CorrectedTranscriptError as error:
        fail(error_message(error, "en") + " Run again with --force to confirm.")
    arguments = (str(audio.absolute()) if audio else "", str(model.absolute()) if model else "", force)
    if wait and not worker_running(factory):
        _run_here(ctx, lecture_id, arguments)
        return
    queue_or_exit(settings)
    job = enqueue_transcription(ctx, lecture_id, *arguments)
    typer.echo(job)
    if wait:
        _follow(factory, lecture_id)
    elif not worker_running(factory):
        typer.echo("No worker is running: start one with `diemcau worker`, or use --wait.", err=True)


def _run_here(ctx: WorkerContext, lecture_id: str, arguments: tuple[str, str, bool]) -> None:
    jobs.queue_job(ctx.factory, lecture_id)
    with typer.progressbar(length=1000, label="transcribe", file=sys.stderr, show_percent=True) as bar:
        shown = [0]

        def on_progress(progress: Progress) -> None:
            target = int(progress.percent * 10)
            bar.update(target - shown[0])
            shown[0] = target

        try:
            transcript = run_transcription(ctx, lecture_id, *arguments, on_progress=on_progress)
        except TranscriptionError as error:
            fail(error.message("en"))
        except CorrectedTranscriptError as error:
            fail(error_message(error, "en"))
        bar.update(1000 - shown[0])
    if transcript is None:
        fail(f"Lecture {lecture_id} is being transcribed by another process already.")
    typer.echo(f"{lecture_id}: {len(transcript.segments)} segments, {transcript.duration:.1f} s")
    for note in transcript.settings.get("notes", []):
        typer.echo(f"note: {note['message']}", err=True)


def _follow(factory, lecture_id: str, poll: float = 0.5) -> None:  # type: ignore[no-untyped-def]
    with typer.progressbar(length=1000, label="transcribe", file=sys.stderr, show_percent=True) as bar:
        shown = 0
        while True:
            job = jobs.load_job(factory, lecture_id)
            if job is not None:
                bar.update(int(job.progress * 10) - shown)
                shown = int(job.progress * 10)
                if job.status in ("done", "failed"):
                    break
            time.sleep(poll)
    if job.status == "failed":
        fail(job.error)
