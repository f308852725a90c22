"""The studio's routes for the lecture's documents (issue 18): suggestions from the materials, reverting an edit
(a system correction), transcribing again once a material changed — trainers and admins only, as attackers see
them. No Whisper here: transcripts are seeded, and a queued transcription is only checked as queued."""

from __future__ import annotations

import json

import pytest

from diemcau.adapters import transcript_store as store
from diemcau.adapters.db import transcription_jobs as jobs
from diemcau.apps import setup_steps
from diemcau.core.corrections import SYSTEM_EDITOR
from diemcau.i18n import t
from diemcau.jobs.transcribe_task import REQUEST_FILE, work_dir
from tests.apiclient import PREFIX, auth, runtime_of, seeded_client
from tests.material_fixtures import seed_lecture_material
from tests.studio_support import (
    DOCUMENT_SENTENCE,
    HEARD_SENTENCE,
    QUOTING_SEGMENT,
    finished_transcription,
    seed_quoting_lecture,
    seed_system_correction,
)
from tests.transcript_fixtures import LECTURE_ID, sample_transcript, seed_lecture

BASE = f"{PREFIX}/api/lectures/{LECTURE_ID}/transcript"
OUTSIDERS = ("member", "secretary", "committee", "other_cell", "member_b")  # none of them manages content


@pytest.fixture
def api(settings):  # type: ignore[no-untyped-def]
    """The API on the seeded province with the lecture quoting its material (one suggestion pending)."""
    setup_steps.ensure_data_dir(settings)
    factory = setup_steps.ensure_database(settings)
    client, _ = seeded_client(settings, factory)
    seed_quoting_lecture(settings, factory)
    return client, settings, factory


def test_a_trainer_gets_the_documents_words_for_a_close_stretch(api) -> None:
    """Does a trainer (and an admin) get the document's sentence for the stretch Whisper garbled, with the
    segment's text to write, while the transcript itself is left unchanged?"""
    client, settings, _factory = api
    before = store.load_transcript(settings.transcripts_dir, LECTURE_ID)
    for role in ("trainer", "admin"):
        response = client.get(f"{BASE}/suggestions", headers=auth(role))
        assert response.status_code == 200, response.text
        [suggestion] = response.json()
        assert (suggestion["sentence"], suggestion["heard"]) == (DOCUMENT_SENTENCE, HEARD_SENTENCE)
        assert 60 <= suggestion["score"] < 72
        assert suggestion["segments"] == [{"index": QUOTING_SEGMENT, "text": DOCUMENT_SENTENCE}]
    assert store.load_transcript(settings.transcripts_dir, LECTURE_ID) == before


def test_accepting_a_suggestion_is_an_ordinary_correction_and_it_is_not_offered_again(api) -> None:
    """Once the trainer writes the suggested text through the edit route, is it a versioned edit of theirs, and
    the suggestion gone — though the app keeps the first alignment (asking again for the same transcript and
    documents aligns nothing), never one of a transcript that changed since?"""
    client, _settings, _factory = api
    [suggestion] = client.get(f"{BASE}/suggestions", headers=auth("trainer")).json()
    assert client.get(f"{BASE}/suggestions", headers=auth("trainer")).json() == [suggestion]
    assert len(runtime_of(client).caches.alignments) == 1  # the second answer came from the app's cache
    assert len(runtime_of(client).caches.documents) == 1  # and the material's file was read once
    [change] = suggestion["segments"]
    saved = client.patch(f"{BASE}/segments/{change['index']}", json={"text": change["text"]}, headers=auth("trainer"))
    assert saved.status_code == 200, saved.text
    [edit] = client.get(f"{BASE}/history", headers=auth("trainer")).json()
    assert (edit["editor"], edit["before"]["text"], edit["after"]["text"]) == (
        "b1002",
        HEARD_SENTENCE,
        DOCUMENT_SENTENCE,
    )
    assert client.get(f"{BASE}/suggestions", headers=auth("trainer")).json() == []
    assert len(runtime_of(client).caches.alignments) == 2  # the changed transcript was aligned afresh
    assert len(runtime_of(client).caches.documents) == 1  # against the same material, not read again


def test_suggestions_are_refused_to_everyone_but_staff(api) -> None:
    """Are members, the cell's secretary, a committee member, another cell's members and an anonymous caller
    refused, with no document text in the answer?"""
    client, _settings, _factory = api
    for role in OUTSIDERS:
        response = client.get(f"{BASE}/suggestions", headers=auth(role))
        assert response.status_code == 403, (role, response.text)
        assert "chuyển đổi số" not in response.text
    assert client.get(f"{BASE}/suggestions", headers=auth(None)).status_code in (401, 403)


def test_hostile_or_missing_lectures_get_a_4xx(api) -> None:
    """Do unknown, traversal-like, overlong and control-character lecture ids, and a lecture without a
    transcript or without materials, answer 404 or an empty list — never a 5xx?"""
    client, settings, factory = api
    for lecture in ("khong-co", "..%2F..%2Fetc", "x" * 5000, "%00", "lec%0Aone", "%F0%9F%92%A5"):
        response = client.get(f"{PREFIX}/api/lectures/{lecture}/transcript/suggestions", headers=auth("trainer"))
        assert 400 <= response.status_code < 500, (lecture, response.status_code)
    seed_lecture(factory, "lecNoText1")
    missing = client.get(f"{PREFIX}/api/lectures/lecNoText1/transcript/suggestions", headers=auth("trainer"))
    assert missing.status_code == 404 and "chưa có bản ghi" in missing.json()["detail"]
    store.write_transcript(settings.transcripts_dir, sample_transcript("lecNoText1"))
    bare = client.get(f"{PREFIX}/api/lectures/lecNoText1/transcript/suggestions", headers=auth("trainer"))
    assert bare.status_code == 200 and bare.json() == []  # no material: nothing to suggest


def test_a_trainer_reverts_a_system_correction(api) -> None:
    """Is the system's edit marked as such in the history, and does reverting it bring Whisper's words back,
    recorded as the trainer's own edit — and is a second revert of it refused (409), nothing written?"""
    client, settings, factory = api
    seed_system_correction(settings, factory)
    [system] = client.get(f"{BASE}/history", headers=auth("trainer")).json()
    assert (system["editor"], system["system"], system["after"]["text"]) == (SYSTEM_EDITOR, True, DOCUMENT_SENTENCE)
    response = client.post(f"{BASE}/history/{system['id']}/revert", headers=auth("trainer"))
    assert response.status_code == 200, response.text
    undo = response.json()
    assert (undo["editor"], undo["system"], undo["after"]["text"]) == ("b1002", False, HEARD_SENTENCE)
    segments = client.get(BASE, headers=auth("member")).json()["segments"]
    assert segments[QUOTING_SEGMENT]["text"] == HEARD_SENTENCE
    before = store.load_transcript(settings.transcripts_dir, LECTURE_ID)
    again = client.post(f"{BASE}/history/{system['id']}/revert", headers=auth("admin"))
    assert again.status_code == 409 and str(system["id"]) in again.json()["detail"]
    assert store.load_transcript(settings.transcripts_dir, LECTURE_ID) == before
    assert len(client.get(f"{BASE}/history", headers=auth("trainer")).json()) == 2


def test_reverting_is_refused_to_everyone_but_staff_and_to_hostile_ids(api) -> None:
    """Are members, secretaries, committees, other cells and anonymous callers refused with nothing changed; do an
    unknown edit, another lecture's edit, and malformed or huge edit ids answer 4xx, never 5xx?"""
    client, settings, factory = api
    seed_system_correction(settings, factory)
    [system] = client.get(f"{BASE}/history", headers=auth("trainer")).json()
    before = store.load_transcript(settings.transcripts_dir, LECTURE_ID)
    for role in (*OUTSIDERS, None):
        response = client.post(f"{BASE}/history/{system['id']}/revert", headers=auth(role))
        assert response.status_code in ((401, 403) if role is None else (403,)), (role, response.text)
    seed_lecture(factory, "lecOther01")
    store.write_transcript(settings.transcripts_dir, sample_transcript("lecOther01"))
    other = client.post(
        f"{PREFIX}/api/lectures/lecOther01/transcript/history/{system['id']}/revert", headers=auth("trainer")
    )
    assert other.status_code == 404
    for edit_id in ("999999", "0", "-1", "abc", "1e3", str(2**63), "%00"):
        response = client.post(f"{BASE}/history/{edit_id}/revert", headers=auth("trainer"))
        assert 400 <= response.status_code < 500, (edit_id, response.status_code)
    assert store.load_transcript(settings.transcripts_dir, LECTURE_ID) == before
    assert len(client.get(f"{BASE}/history", headers=auth("trainer")).json()) == 1


def test_a_material_attached_after_the_transcript_is_offered_for_transcribing_again(api) -> None:
    """Is nothing offered while the materials predate the transcription, and is a material with text attached
    after it reported, so that a trainer's request queues the transcription again (202) — refused while it runs?"""
    client, settings, factory = api
    finished_transcription(factory)
    state = client.get(f"{BASE}ion", headers=auth("trainer")).json()
    assert (state["status"], state["materials_changed_at"], state["corrections"]) == ("done", None, 0)
    seed_lecture_material(settings, factory, LECTURE_ID, name="Phụ lục.pdf")
    state = client.get(f"{BASE}ion", headers=auth("admin")).json()
    assert state["materials_changed_at"] is not None and state["materials_changed_at"] >= state["transcribed_at"]
    queued = client.post(f"{BASE}ion", json={}, headers=auth("trainer"))
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued" and jobs.load_job(factory, LECTURE_ID).status == "queued"
    again = client.post(f"{BASE}ion", json={}, headers=auth("trainer"))
    assert again.status_code == 409 and again.json()["detail"] == t("transcript.transcription_busy", lecture=LECTURE_ID)


def test_transcribing_a_corrected_transcript_again_needs_confirming(api) -> None:
    """With a trainer's correction, is the request refused with the reason (corrections kept and re-applied)
    until confirmed with ``force``, which the queued job carries?"""
    client, settings, factory = api
    finished_transcription(factory)
    client.patch(f"{BASE}/segments/0", json={"text": "Kính thưa các đồng chí đảng viên"}, headers=auth("trainer"))
    refused = client.post(f"{BASE}ion", json={}, headers=auth("trainer"))
    assert refused.status_code == 409 and "áp dụng lại" in refused.json()["detail"]
    assert jobs.load_job(factory, LECTURE_ID).status == "done"
    confirmed = client.post(f"{BASE}ion", json={"force": True}, headers=auth("trainer"))
    assert confirmed.status_code == 202 and confirmed.json()["corrections"] == 1
    request = json.loads((work_dir(settings, LECTURE_ID) / REQUEST_FILE).read_text("utf-8"))
    assert request["force"] is True


def test_transcribing_again_is_refused_to_everyone_but_staff_and_to_hostile_input(api) -> None:
    """Are members, secretaries, committees, other cells and anonymous callers refused without a job queued; do
    a lecture without audio, unknown or hostile ids and a body with unknown fields get a 4xx?"""
    client, settings, factory = api
    finished_transcription(factory)
    for role in (*OUTSIDERS, None):
        for method in ("GET", "POST"):
            response = client.request(method, f"{BASE}ion", json={"force": True}, headers=auth(role))
            assert response.status_code in ((401, 403) if role is None else (403,)), (role, method, response.text)
    assert jobs.load_job(factory, LECTURE_ID).status == "done"
    seed_lecture(factory, "lecNoAudio")
    silent = client.post(f"{PREFIX}/api/lectures/lecNoAudio/transcription", json={}, headers=auth("trainer"))
    assert silent.status_code == 409 and "chưa có âm thanh" in silent.json()["detail"]
    assert jobs.load_job(factory, "lecNoAudio") is None
    for lecture in ("khong-co", "..%2F..%2Fetc", "x" * 5000, "%00"):
        response = client.post(f"{PREFIX}/api/lectures/{lecture}/transcription", json={}, headers=auth("trainer"))
        assert 400 <= response.status_code < 500, (lecture, response.status_code)
    for body in ({"force": "có"}, {"model": "large-v3"}, [], "x"):
        assert client.post(f"{BASE}ion", json=body, headers=auth("trainer")).status_code == 422
