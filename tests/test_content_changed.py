"""Does a transcript written on a path with no worker become searchable at once, without ``search reindex``?

Writers call ``search.content.content_changed`` themselves; before, search followed transcripts only where an
entry point had remembered to subscribe the indexer (``install_hooks``), and ``--wait`` without a worker never did.
The real command line, the bundled Whisper model (greedy decoding) and generated Vietnamese speech.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from diemcau.adapters.db.engine import make_engine, make_sessionmaker
from diemcau.adapters.transcript_store import load_transcript
from diemcau.apps.cli import app
from diemcau.settings import load_settings
from tests.asr_fixtures import asr_environ, clips, whisper_dir  # noqa: F401 - fixtures
from tests.transcript_fixtures import seed_lecture

GREEDY = {"DIEMCAU_TRANSCRIPTION__BEAM_SIZE": "1"}


def invoke(env: dict[str, str], *args: str) -> Result:
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def searched_lectures(env: dict[str, str], lecture_id: str) -> set[str]:
    """The lectures ``diemcau search`` finds for a word of ``lecture_id``'s stored transcript."""
    transcript = load_transcript(load_settings(env).transcripts_dir, lecture_id)
    assert transcript is not None and transcript.segments, "the path under test wrote no transcript"
    words = re.findall(r"\w{4,}", " ".join(segment.text for segment in transcript.segments))
    assert words, transcript.segments
    hits = json.loads(invoke(env, "search", words[0], "--json").stdout)
    return {hit["lecture_id"] for hit in hits}


@pytest.fixture
def env(tmp_path: Path, whisper_dir: Path) -> dict[str, str]:  # noqa: F811
    """A migrated data directory (SQLite) using the bundled model, no worker anywhere."""
    environ = asr_environ(tmp_path, whisper_dir, **GREEDY)
    invoke(environ, "init")
    return environ


def test_is_a_lecture_published_with_wait_and_no_worker_searchable(
    env: dict[str, str],
    clips: dict[str, Path],  # noqa: F811
) -> None:
    """``lecture publish FILE --wait`` runs ingest and transcription here: can ``search`` find the talk after?"""
    invoke(env, "course", "create", "nq1", "--title", "Nghị quyết 1")
    args = ["lecture", "publish", str(clips["speech"]), "--course", "nq1", "--title", "Bài giảng", "--wait"]
    lecture = json.loads(invoke(env, *args, "--json").stdout.strip().splitlines()[-1])
    assert (lecture["status"], lecture["transcript"]) == ("ready", "ready")
    assert searched_lectures(env, lecture["id"]) == {lecture["id"]}


def test_is_a_lecture_transcribed_with_wait_and_no_worker_searchable(
    env: dict[str, str],
    clips: dict[str, Path],  # noqa: F811
) -> None:
    """``transcribe LECTURE --wait`` without a worker transcribes in-process: is the transcript searchable?"""
    engine = make_engine(load_settings(env).database_url)
    try:
        seed_lecture(make_sessionmaker(engine), "lecWait001")
    finally:
        engine.dispose()
    invoke(env, "transcribe", "lecWait001", "--audio", str(clips["speech"]), "--wait")
    assert searched_lectures(env, "lecWait001") == {"lecWait001"}


def test_are_imported_captions_searchable_at_once(env: dict[str, str], tmp_path: Path) -> None:
    """``transcript import`` (a trainer's WebVTT): is the wording searchable without ``search reindex``?"""
    engine = make_engine(load_settings(env).database_url)
    try:
        seed_lecture(make_sessionmaker(engine), "lecVtt0001")
    finally:
        engine.dispose()
    captions = tmp_path / "captions.vtt"
    captions.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nĐảng viên phải gương mẫu.\n", "utf-8")
    invoke(env, "transcript", "import", "lecVtt0001", str(captions))
    assert searched_lectures(env, "lecVtt0001") == {"lecVtt0001"}
