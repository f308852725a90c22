"""The studio under Streamlit's AppTest, talking to the real API app in-process as the seeded trainer."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from diemcau.adapters.db import transcription_jobs as jobs
from diemcau.adapters.transcript_edits import apply_document_alignment
from diemcau.adapters.transcript_store import load_transcript, write_transcript
from diemcau.apps.studio.client import StudioClient
from diemcau.apps.studio.launch import APP_SCRIPT
from diemcau.asr.doc_align import AlignOptions
from diemcau.core.transcript import Word
from diemcau.i18n import t
from diemcau.settings import Settings
from tests.apiclient import PREFIX, token_of
from tests.material_fixtures import pdf_bytes, seed_lecture_material
from tests.media_fixtures import FAKE_SHA, ffmpeg, seed_lecture_media
from tests.transcript_fixtures import LECTURE_ID, sample_transcript, words_of

UNSURE_SEGMENT = 2  # "của ban chấp hành trung ương": Whisper was unsure of "chấp"


def studio_client(api: TestClient, role: str = "trainer") -> StudioClient:
    """A studio client on the in-process API, with ``role``'s token, as the trainer's server would build it."""
    headers = {"Authorization": f"token {token_of(role)}"}
    http = TestClient(api.app, base_url=f"http://testserver{PREFIX}", headers=headers)
    return StudioClient(http)


def studio(client: StudioClient, page: str | None = None) -> AppTest:
    """The studio script run once with ``client``, on ``page`` (a key of ``app.PAGES``) if given."""
    at = AppTest.from_file(str(APP_SCRIPT), default_timeout=120)
    at.session_state["studio_client"] = client
    at.run()
    if page is not None:
        at.sidebar.radio(key="page").set_value(page).run()
    return at


def seed_correctable_lecture(settings: Settings, factory: sessionmaker[Session]) -> str:
    """The ready lecture of course nq-cb-a1 with real audio (a 14 s tone) and a transcript with one unsure word."""
    seed_lecture_media(settings, factory)
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300:sample_rate=44100:duration=14",
        "-c:a",
        "aac",
        "-movflags",
        "+faststart",
        str(settings.media_dir / FAKE_SHA / "audio.m4a"),
    )
    transcript = sample_transcript()
    segments = list(transcript.segments)
    words = list(segments[UNSURE_SEGMENT].words)
    words[2] = Word(words[2].start, words[2].end, words[2].text, 0.21)
    segments[UNSURE_SEGMENT] = replace(segments[UNSURE_SEGMENT], words=tuple(words))
    write_transcript(settings.transcripts_dir, replace(transcript, segments=tuple(segments)))
    return LECTURE_ID


def texts(at: AppTest) -> str:
    """Everything the page shows as text (markdown, captions, alerts, headers), one item a line."""
    parts = [
        e.value
        for kind in ("markdown", "caption", "success", "info", "warning", "error", "header", "subheader")
        for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


def button(at: AppTest, label_key: str, **params: object):  # type: ignore[no-untyped-def]
    """The button (or form submit button) labelled with the catalogue's ``label_key`` (filled with ``params``)."""
    label = t(label_key, **params)
    return next(b for b in at.button if b.label == label)


# A sentence of the lecture's resolution, and what Whisper base wrote for it (tests/test_doc_align.py): close to
# the document (a suggestion), not close enough to replace where Whisper was sure of most of its words.
DOCUMENT_SENTENCE = (
    "Thứ hai, chuyển đổi số phải được triển khai toàn diện, đồng bộ, lấy người dân và doanh nghiệp làm trung tâm."
)
HEARD_SENTENCE = "Thứ thái, kim bôi sô phải, tìm khái và nhinh tầng mô, lấy lì chân và nhịt làm thông tâm."
QUOTING_SEGMENT = 2


def seed_quoting_lecture(settings: Settings, factory: sessionmaker[Session]) -> str:
    """``seed_correctable_lecture`` whose unsure segment is Whisper's hearing of ``DOCUMENT_SENTENCE`` (one word
    unsure), with a PDF material holding that sentence among others, wrapped over lines as a PDF lays it out."""
    seed_correctable_lecture(settings, factory)
    transcript = load_transcript(settings.transcripts_dir, LECTURE_ID)
    assert transcript is not None
    segments = list(transcript.segments)
    old = segments[QUOTING_SEGMENT]
    words = list(words_of(HEARD_SENTENCE, old.start, old.end))
    words[1] = replace(words[1], probability=0.21)
    segments[QUOTING_SEGMENT] = replace(old, text=HEARD_SENTENCE, words=tuple(words))
    write_transcript(settings.transcripts_dir, replace(transcript, segments=tuple(segments)))
    resolution = "Nghị quyết số 57-NQ/TW của Bộ Chính trị về chuyển đổi số quốc gia. " + DOCUMENT_SENTENCE
    seed_lecture_material(settings, factory, LECTURE_ID, data=pdf_bytes((resolution,)))
    return LECTURE_ID


def seed_system_correction(settings: Settings, factory: sessionmaker[Session]) -> None:
    """On the lecture of ``seed_quoting_lecture``: the quoted segment corrected by the system from the document
    (replacing from the suggestion threshold, so the close stretch is replaced), one edit by ``SYSTEM_EDITOR``."""
    aligned = apply_document_alignment(
        factory, settings.transcripts_dir, LECTURE_ID, [DOCUMENT_SENTENCE], AlignOptions(replace_at=60.0)
    )
    assert aligned is not None and len(aligned.replaced) == 1


def finished_transcription(factory: sessionmaker[Session]) -> None:
    """The lecture's transcription job, queued and done now (after the materials seeded so far)."""
    jobs.queue_job(factory, LECTURE_ID)
    jobs.finish_job(factory, LECTURE_ID)
