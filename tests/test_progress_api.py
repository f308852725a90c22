"""Progress through the API: merged coverage, offline replay, clamping, and only one's own record."""

from __future__ import annotations

from diemcau.adapters.db.progress import load_progress
from tests.apiclient import auth, seeded_client
from tests.transcript_fixtures import LECTURE_ID, opened_yesterday, seed_lecture

URL = f"/services/diemcau/api/lectures/{LECTURE_ID}/progress"


def _client(settings, factory, role: str):  # type: ignore[no-untyped-def]
    client, seeded = seeded_client(settings, factory)
    seed_lecture(factory)
    opened_yesterday(factory, seeded["users"].values())  # these tests are about merging, not the real-time bound
    client.headers.update(auth(role))
    return client, seeded["users"]


def _events(*spans: tuple[str, str, float, float, int]) -> dict:
    return {"events": [{"event_id": i, "kind": k, "start": s, "end": e, "seq": q} for i, k, s, e, q in spans]}


def test_replayed_offline_queue_counts_once(settings, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Does posting the same queued events twice (offline replay) leave coverage unchanged?"""
    client, _ = _client(settings, sqlite_factory, "member")
    with client:
        body = _events(("a", "heartbeat", 0, 60, 1), ("b", "heartbeat", 60, 120, 2))
        first = client.post(URL, json=body).json()
        second = client.post(URL, json=body).json()
        assert first == second and first["coverage_percent"] == 20.0 and first["resume_position"] == 120
        late = client.post(URL, json=_events(("c", "heartbeat", 30, 90, 0))).json()  # old, overlapping
        assert late["coverage_percent"] == 20.0 and late["resume_position"] == 120
        assert client.get(URL).json() == late


def test_cannot_claim_more_than_the_lecture(settings, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Is a span past the end clamped to the lecture's 600 s, never over 100 %?"""
    client, _ = _client(settings, sqlite_factory, "member")
    with client:
        assert client.post(URL, json=_events(("x", "ended", 0, 5000, 1))).json()["coverage_percent"] == 100.0


def test_progress_is_the_callers_own(settings, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Does a secretary's post land on the secretary's record, never on a member's?"""
    client, users = _client(settings, sqlite_factory, "secretary")
    with client:
        assert client.post(URL, json=_events(("s", "heartbeat", 0, 300, 1))).status_code == 200
    assert load_progress(sqlite_factory, users["secretary"], LECTURE_ID).coverage_percent == 50.0
    assert load_progress(sqlite_factory, users["member"], LECTURE_ID).coverage_percent == 0.0


def test_bad_events_are_refused(settings, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Are unknown kinds, negative times and empty ids refused with 422 and nothing stored?"""
    client, users = _client(settings, sqlite_factory, "member")
    with client:
        for bad in (("a", "teleport", 0, 1, 1), ("b", "heartbeat", -5, 1, 1), ("", "heartbeat", 0, 1, 1)):
            assert client.post(URL, json=_events(bad)).status_code == 422
    assert load_progress(sqlite_factory, users["member"], LECTURE_ID).watched_seconds == 0.0
