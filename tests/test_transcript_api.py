"""Transcript routes: reading segments and captions, trainers' corrections and their history, on both backends."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import update

from diemcau.adapters import transcript_store as store
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import LectureRow
from diemcau.core.captions import parse_vtt
from tests.apiclient import PREFIX, auth, seeded_client
from tests.transcript_fixtures import LECTURE_ID, seed_lecture, seed_lecture_transcript

BASE = f"{PREFIX}/api/lectures/{LECTURE_ID}"


def _client(settings, factory):  # type: ignore[no-untyped-def]
    client, _ = seeded_client(settings, factory)
    seed_lecture_transcript(settings.transcripts_dir, factory)
    return client


def test_members_read_segments_and_captions(settings, session_factory) -> None:
    """Does a member of the audience get the segments (words on request) and WebVTT with an ETag?"""
    client = _client(settings, session_factory)
    body = client.get(f"{BASE}/transcript", headers=auth("member")).json()
    first = {"index": 0, "start": 0.0, "end": 2.5, "text": "Kính thưa các đồng chí", "words": None}
    assert body["segments"][0] == first
    with_words = client.get(f"{BASE}/transcript", params={"words": "true"}, headers=auth("member")).json()
    assert with_words["segments"][0]["words"][0]["text"] == " Kính"
    captions = client.get(f"{BASE}/captions.vtt", headers=auth("member"))
    assert captions.headers["content-type"].startswith("text/vtt")
    assert parse_vtt(captions.text).cues[1].text == "hôm nay chúng ta học tập nghị quyết"
    again = client.get(f"{BASE}/captions.vtt", headers=auth("member", **{"If-None-Match": captions.headers["etag"]}))
    assert again.status_code == 304


def test_trainer_corrects_and_history_records_the_hub_user(settings, session_factory) -> None:
    """Is a trainer's edit stored, shown to members at once, and kept in the history under their hub name?"""
    client = _client(settings, session_factory)
    response = client.patch(
        f"{BASE}/transcript/segments/2",
        json={"text": "của Ban Chấp hành Trung ương", "end": 9.4},
        headers=auth("trainer"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["text"] == "của Ban Chấp hành Trung ương" and response.json()["end"] == 9.4
    captions = client.get(f"{BASE}/captions.vtt", headers=auth("member")).text
    assert "của Ban Chấp hành Trung ương" in captions
    history = client.get(f"{BASE}/transcript/history", headers=auth("admin")).json()
    assert len(history) == 1
    assert history[0]["editor"] == "b1002" and history[0]["changed"] == ["text", "end"]
    assert history[0]["before"]["text"] == "của ban chấp hành trung ương" and history[0]["at"].endswith("Z")


def test_members_and_secretaries_cannot_correct(settings, session_factory) -> None:
    """Are a member and a secretary refused (403) and nothing changed?"""
    client = _client(settings, session_factory)
    before = store.load_transcript(settings.transcripts_dir, LECTURE_ID)
    for role in ("member", "secretary", "committee"):
        response = client.patch(f"{BASE}/transcript/segments/0", json={"text": "sửa trộm"}, headers=auth(role))
        assert response.status_code == 403
        assert client.get(f"{BASE}/transcript/history", headers=auth(role)).status_code == 403
    assert store.load_transcript(settings.transcripts_dir, LECTURE_ID) == before


def test_bad_edits_get_vietnamese_reasons(settings, session_factory) -> None:
    """Do overlapping times, blank text, unknown segments and unknown fields get a clear refusal?"""
    client = _client(settings, session_factory)
    patch = lambda index, body: client.patch(  # noqa: E731
        f"{BASE}/transcript/segments/{index}", json=body, headers=auth("trainer")
    )
    overlap = patch(1, {"end": 7.0})
    assert overlap.status_code == 422 and "chồng lên đoạn sau" in overlap.json()["detail"]
    assert "không được để trống" in patch(1, {"text": " "}).json()["detail"]
    assert patch(1, {"start": 5, "end": 4}).status_code == 422
    assert patch(42, {"text": "x"}).status_code == 404
    assert patch(1, {"speaker": "x"}).status_code == 422
    assert client.get(f"{BASE}/transcript/history", headers=auth("trainer")).json() == []


def test_unready_or_missing_lectures_and_transcripts(settings, session_factory) -> None:
    """Is a lecture not yet ready hidden from members but not trainers, and a missing transcript a 404?"""
    client = _client(settings, session_factory)
    with transaction(session_factory) as session:
        session.execute(update(LectureRow).where(LectureRow.id == LECTURE_ID).values(status="processing"))
    assert client.get(f"{BASE}/transcript", headers=auth("member")).status_code == 404
    assert client.get(f"{BASE}/transcript", headers=auth("trainer")).status_code == 200
    seed_lecture(session_factory, "lecNoText1")
    missing = client.get(f"{PREFIX}/api/lectures/lecNoText1/transcript", headers=auth("member"))
    assert missing.status_code == 404 and "chưa có bản ghi" in missing.json()["detail"]
    assert client.get(f"{PREFIX}/api/lectures/..%2Fetc/transcript", headers=auth("trainer")).status_code == 404


def test_a_transcript_still_being_written_cannot_be_corrected(settings, session_factory) -> None:
    """While the transcriber still writes partial results, is a correction refused (409) instead of lost?"""
    client = _client(settings, session_factory)
    partial = store.load_transcript(settings.transcripts_dir, LECTURE_ID)
    store.write_transcript(settings.transcripts_dir, replace(partial, settings={"partial": True}))
    response = client.patch(f"{BASE}/transcript/segments/0", json={"text": "Kính thưa"}, headers=auth("trainer"))
    assert response.status_code == 409 and "đang được chuyển lời" in response.json()["detail"]
