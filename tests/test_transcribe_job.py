"""The transcription job and ``diemcau transcribe``: progress in ``jobs``, failures recorded, crash and resume.

The crash test runs real ``diemcau worker`` processes on the SQLite queue, kills one with SIGKILL in the middle
of a lecture, and checks that the next worker finishes it from the checkpoint without decoding again the
windows the first one had finished.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from diemcau.adapters.db import transcription_jobs as jobs
from diemcau.adapters.storage import stores_of
from diemcau.adapters.transcript_edits import apply_edit, edit_history
from diemcau.adapters.transcript_store import load_transcript
from diemcau.apps import setup_steps
from diemcau.apps.cli import app
from diemcau.asr.errors import TranscriptionError
from diemcau.core.corrections import SYSTEM_EDITOR
from diemcau.jobs.context import install
from diemcau.jobs.transcribe_task import enqueue_transcription, run_transcription, work_dir
from diemcau.materials.attach import AttachRequest, attach_material, read_material
from diemcau.settings import Settings, load_settings
from tests.asr_fixtures import SENTENCES, asr_environ, asr_settings, clips, whisper_dir  # noqa: F401 - fixtures
from tests.material_fixtures import make_docx
from tests.transcript_fixtures import seed_lecture

LECTURE = "lecJob0001"
GREEDY = {"DIEMCAU_TRANSCRIPTION__BEAM_SIZE": "1"}  # these tests are about jobs, not accuracy: decode faster
BIN = Path(sys.executable).parent


def ready(settings: Settings, lecture_id: str = LECTURE):  # type: ignore[no-untyped-def]
    """A migrated data directory with the lecture's row; the job runner's session factory."""
    setup_steps.ensure_data_dir(settings)
    setup_steps.ensure_database(settings)
    factory = install(settings).factory
    seed_lecture(factory, lecture_id)
    return factory


def test_corrupt_audio_fails_the_job_with_a_message_and_writes_nothing(
    asr_settings: Settings,
    clips: dict[str, Path],  # noqa: F811
) -> None:
    """Does a corrupt file fail the job with the trainer's (Vietnamese) message, leaving no transcript or work?"""
    factory = ready(asr_settings)
    with pytest.raises(TranscriptionError):
        run_transcription(install(asr_settings), LECTURE, audio=str(clips["corrupt"]))
    job = jobs.load_job(factory, LECTURE)
    assert job is not None and job.status == "failed" and "Không đọc được âm thanh" in job.error
    assert load_transcript(asr_settings.transcripts_dir, LECTURE) is None
    assert not work_dir(asr_settings, LECTURE).exists()


def cli(environ: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["transcribe", *args], env=environ)


def test_cli_refuses_what_it_cannot_do(tmp_path: Path, whisper_dir: Path) -> None:  # noqa: F811
    """Are an unknown lecture, a missing audio file and a missing model folder refused with a clear message?"""
    environ = asr_environ(tmp_path, whisper_dir)
    ready(load_settings(environ))
    unknown = cli(environ, "nosuchlecture", "--audio", str(tmp_path / "a.wav"))
    assert unknown.exit_code == 1 and "No lecture 'nosuchlecture'" in unknown.output
    no_audio = cli(environ, LECTURE, "--audio", str(tmp_path / "a.wav"))
    assert no_audio.exit_code == 1 and "not found" in no_audio.output
    no_media = cli(environ, LECTURE)
    assert no_media.exit_code == 1 and "has no audio yet" in no_media.output
    no_model = cli(environ, LECTURE, "--audio", __file__, "--model", str(tmp_path / "large-v3"))
    assert no_model.exit_code == 1 and "transcription.model" in no_model.output


def test_cli_wait_transcribes_here_and_keeps_corrections(
    tmp_path: Path,
    whisper_dir: Path,
    clips: dict[str, Path],  # noqa: F811
) -> None:
    """With --wait and no worker, is the lecture transcribed in-process with its job done at 100 %; is a
    corrected transcript replaced only with --force, and does the correction survive the re-transcription?"""
    environ = asr_environ(tmp_path, whisper_dir, **GREEDY)
    settings = load_settings(environ)
    factory = ready(settings)
    first = cli(environ, LECTURE, "--audio", str(clips["speech"]), "--wait")
    assert first.exit_code == 0, first.output
    job = jobs.load_job(factory, LECTURE)
    assert job is not None and (job.status, job.progress, job.attempts) == ("done", 100.0, 1)
    transcript = load_transcript(settings.transcripts_dir, LECTURE)
    assert transcript is not None and transcript.segments
    assert not work_dir(settings, LECTURE).exists(), "the checkpoint is removed once the transcript is stored"

    apply_edit(factory, settings.transcripts_dir, LECTURE, 0, "trainer1", text="Thưa các đồng chí, hôm nay")
    refused = cli(environ, LECTURE, "--audio", str(clips["speech"]), "--wait")
    assert refused.exit_code == 1 and "--force" in refused.output
    forced = cli(environ, LECTURE, "--audio", str(clips["speech"]), "--wait", "--force")
    assert forced.exit_code == 0, forced.output
    again = load_transcript(settings.transcripts_dir, LECTURE)
    assert again is not None and again.segments[0].text == "Thưa các đồng chí, hôm nay"


def test_a_sentence_the_attached_document_quotes_comes_out_exact(
    tmp_path: Path,
    whisper_dir: Path,
    clips: dict[str, Path],  # noqa: F811
) -> None:
    """The real model on a short clip whose first sentence the lecture's material contains (issue 18): is that
    sentence the document's exact words after the job, as a system correction, and is the second sentence, not
    in the document, left as Whisper wrote it?"""
    environ = asr_environ(tmp_path, whisper_dir, **GREEDY)
    settings = load_settings(environ)
    factory = ready(settings)
    document = make_docx(tmp_path / "nghi-quyet.docx", pages=(SENTENCES[0] + " Câu này không có trong bài giảng.",))
    stores = stores_of(settings)
    with document.open("rb") as stream:
        stored = attach_material(
            settings, factory, stores.materials, AttachRequest(LECTURE, document.name, "b1002"), stream
        )
    assert read_material(settings, factory, stores, None, LECTURE, stored.record.name, stored.record.sha256)
    done = cli(environ, LECTURE, "--audio", str(clips["speech"]), "--wait")
    assert done.exit_code == 0, done.output
    transcript = load_transcript(settings.transcripts_dir, LECTURE)
    assert transcript is not None
    text = " ".join(s.text for s in transcript.segments)
    assert text.startswith(SENTENCES[0])
    edits = edit_history(factory, LECTURE)
    assert edits and {e.editor for e in edits} == {SYSTEM_EDITOR}
    whisper = {e.segment_index: e.before.text for e in edits}
    heard = " ".join(whisper.get(s.index, s.text) for s in transcript.segments)
    rest = text.removeprefix(SENTENCES[0]).strip()
    assert rest and heard.endswith(rest)  # the second sentence: Whisper's words, untouched


def _worker(environ: dict[str, str], log: Path) -> subprocess.Popen:
    env = {**os.environ, **environ, "PYTHONUNBUFFERED": "1"}
    handle = log.open("ab")
    return subprocess.Popen([str(BIN / "diemcau"), "worker"], env=env, stdout=handle, stderr=subprocess.STDOUT)


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    started = deadline = time.monotonic()
    deadline += timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
    print(f"waited {time.monotonic() - started:.1f} s for {what}")


def _windows_done(checkpoint: Path) -> int:
    try:
        return max(0, len(checkpoint.read_text().splitlines()) - 1)
    except FileNotFoundError:
        return 0


def test_a_killed_worker_is_resumed_from_its_checkpoint(
    tmp_path: Path,
    whisper_dir: Path,
    clips: dict[str, Path],  # noqa: F811
) -> None:
    """After SIGKILL mid-lecture, does the next worker finish the job without redoing the finished windows?"""
    environ = asr_environ(tmp_path, whisper_dir, DIEMCAU_TRANSCRIPTION__WINDOW_SECONDS="5", **GREEDY)
    settings = load_settings(environ)
    factory = ready(settings)
    enqueue_transcription(install(settings), LECTURE, audio=str(clips["short_lecture"]))
    checkpoint = work_dir(settings, LECTURE) / "windows.jsonl"
    transcript_path = settings.transcripts_dir / LECTURE / "transcript.json"
    log = tmp_path / "worker.log"
    first = _worker(environ, log)
    try:
        first_window = lambda: _windows_done(checkpoint) >= 1 and transcript_path.is_file()  # noqa: E731
        _wait(first_window, 120, "the first finished window")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    killed_after = _windows_done(checkpoint)
    job = jobs.load_job(factory, LECTURE)
    assert job is not None and job.status == "running" and 0 < job.progress < 100, "killed mid-lecture"
    partial = load_transcript(settings.transcripts_dir, LECTURE)
    assert partial is not None and partial.settings["partial"] is True, "searchable while being transcribed"

    second = _worker(environ, log)
    try:
        _wait(lambda: jobs.load_job(factory, LECTURE).status in ("done", "failed"), 150, "the resumed job")
    finally:
        second.send_signal(signal.SIGINT)
        second.wait(30)
    job = jobs.load_job(factory, LECTURE)
    assert job is not None and job.status == "done", log.read_text()[-2000:]
    transcript = load_transcript(settings.transcripts_dir, LECTURE)
    assert transcript is not None and transcript.segments and transcript.settings["partial"] is False
    attempts, windows = transcript.settings["window_attempts"], transcript.settings["windows"]
    assert len(attempts) == windows >= 3 and 1 <= killed_after < windows
    assert transcript.settings["resumed_windows"] == killed_after
    assert attempts == [1] * killed_after + [2] * (windows - killed_after), "finished windows are never decoded again"
