"""The studio's routes for the lecture's documents (issue 18): suggestions from the materials, and reverting an
edit (a system correction) — trainers and admins only, as attackers see them."""

from __future__ import annotations

import pytest

from diemcau.adapters import transcript_store as store
from diemcau.apps import setup_steps
from diemcau.core.corrections import SYSTEM_EDITOR
from tests.apiclient import PREFIX, auth, seeded_client
from tests.studio_support import (
    DOCUMENT_SENTENCE,
    HEARD_SENTENCE,
    QUOTING_SEGMENT,
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
    the suggestion gone?"""
    client, _settings, _factory = api
    [suggestion] = client.get(f"{BASE}/suggestions", headers=auth("trainer")).json()
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
