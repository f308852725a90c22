"""The progress post's fast path answers exactly as the FastAPI route does.

Each test runs the same requests against two real apps on two databases seeded alike, one with
``settings.perf.fast_progress`` on (``apps.api.plumbing.progress_fast_path``) and one with it off (the FastAPI route),
and compares status, headers and body of every answer, then what each database stored.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker, transaction
from diemcau.adapters.db.models import LectureRow
from diemcau.adapters.db.models_progress import ProgressEventRow
from diemcau.adapters.db.progress import MAX_EVENTS_PER_POST, load_progress
from diemcau.apps.api.app import create_app
from diemcau.apps.api.plumbing.identity import HubIdentity, Identity
from diemcau.apps.api.plumbing.progress_fast_path import MAX_BODY_BYTES, ProgressFastPath
from diemcau.i18n import t
from diemcau.settings import load_settings
from tests.apiclient import PREFIX, auth, token_of
from tests.data_dirs import data_dir_environ
from tests.fakes import OfflineHubOAuth, StaticTokenIdentity
from tests.seed import TODAY, seed_small_province
from tests.transcript_fixtures import LECTURE_ID, opened_yesterday, seed_lecture

MODES = ("on", "off")
PROCESSING, NO_DURATION = "lec-processing", "lec-no-duration"


def _url(lecture_id: str = LECTURE_ID) -> str:
    return f"{PREFIX}/api/lectures/{lecture_id}/progress"


def _event(event_id: str = "a", kind: str = "heartbeat", start: float = 0, end: float = 60, seq: int = 1) -> dict:
    return {"event_id": event_id, "kind": kind, "start": start, "end": end, "seq": seq}


GOOD = {"events": [_event("a", start=0, end=60, seq=1), _event("b", start=60, end=120, seq=2)]}
JSON = {"Content-Type": "application/json"}
# (what it checks, role or None for no credential, lecture, request keyword arguments)
POSTS = [
    ("a good post", "member", LECTURE_ID, {"json": GOOD}),
    ("the same ids replayed count once", "member", LECTURE_ID, {"json": GOOD}),
    ("an older overlapping event", "member", LECTURE_ID, {"json": {"events": [_event("c", start=30, end=90, seq=0)]}}),
    (
        "more than the lecture is clamped",
        "secretary",
        LECTURE_ID,
        {"json": {"events": [_event("x", "ended", 0, 5000)]}},
    ),
    ("another commune's lecture is invisible", "member_b", LECTURE_ID, {"json": GOOD}),
    ("an unknown lecture", "member", "no-such-lecture", {"json": GOOD}),
    ("a lecture not ready, for a member", "member", PROCESSING, {"json": GOOD}),
    ("a lecture not ready, for staff", "trainer", PROCESSING, {"json": GOOD}),
    ("a lecture without a duration", "member", NO_DURATION, {"json": GOOD}),
    ("no credential", None, LECTURE_ID, {"json": GOOD}),
    ("a hub user not in the roster", "stranger", LECTURE_ID, {"json": GOOD}),
    ("an inactive member", "inactive", LECTURE_ID, {"json": GOOD}),
    ("an unknown kind", "member", LECTURE_ID, {"json": {"events": [_event(kind="teleport")]}}),
    ("a negative time", "member", LECTURE_ID, {"json": {"events": [_event(start=-5)]}}),
    ("an empty id", "member", LECTURE_ID, {"json": {"events": [_event("")]}}),
    ("a negative seq", "member", LECTURE_ID, {"json": {"events": [_event(seq=-1)]}}),
    (
        "too many events",
        "member",
        LECTURE_ID,
        {"json": {"events": [_event(f"e{n}") for n in range(MAX_EVENTS_PER_POST + 1)]}},
    ),
    ("no events field", "member", LECTURE_ID, {"json": {"evts": []}}),
    ("events not a list", "member", LECTURE_ID, {"json": {"events": "a"}}),
    ("not JSON", "member", LECTURE_ID, {"content": b'{"events": [', "headers": JSON}),
    ("an empty body", "member", LECTURE_ID, {"content": b"", "headers": JSON}),
    ("no content type", "member", LECTURE_ID, {"content": json.dumps(GOOD).encode()}),
    (
        "another content type",
        "member",
        LECTURE_ID,
        {"content": json.dumps(GOOD).encode(), "headers": {"Content-Type": "text/plain"}},
    ),
    (
        "a JSON subtype",
        "member",
        LECTURE_ID,
        {
            "content": json.dumps({"events": [_event("v")]}).encode(),
            "headers": {"Content-Type": "application/vnd.player+json"},
        },
    ),
    ("no credential and an invalid body", None, LECTURE_ID, {"json": {"events": "a"}}),
    ("no credential and not JSON", None, LECTURE_ID, {"content": b"{", "headers": JSON}),
    (
        "a body past the fast path's limit",
        "member",
        LECTURE_ID,
        {
            "content": b'{"events": [%s]%s}'
            % (json.dumps(_event("big", start=120, end=180, seq=3)).encode(), b" " * MAX_BODY_BYTES),
            "headers": JSON,
        },
    ),
]


def _factory(root: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{root / 'app.sqlite'}")
    ensure_schema(engine)
    return make_sessionmaker(engine)


def _seed(factory: sessionmaker[Session]) -> dict[str, str]:
    """The small province, a ready lecture, one still processing and one without a duration; the users."""
    users = seed_small_province(factory)["users"]
    seed_lecture(factory)
    seed_lecture(factory, PROCESSING, status="processing")
    seed_lecture(factory, NO_DURATION)
    with transaction(factory) as session:
        lecture = session.get(LectureRow, NO_DURATION)
        assert lecture is not None
        lecture.duration_seconds = None
    for lecture_id in (LECTURE_ID, PROCESSING):
        opened_yesterday(factory, users.values(), lecture_id)
    return users


def _client(tmp_path: Path, mode: str, identity: Identity | None = None) -> tuple[TestClient, sessionmaker, dict]:
    root = tmp_path / mode
    root.mkdir()
    settings = load_settings(data_dir_environ(root, DIEMCAU_PERF__FAST_PROGRESS=str(mode == "on").lower()))
    factory = _factory(root)
    users = _seed(factory)
    tokens = {token_of(role): name for role, name in users.items()} | {token_of("stranger"): "z9999"}
    app = create_app(settings, identity or StaticTokenIdentity(tokens), session_factory=factory, today=lambda: TODAY)
    return TestClient(app, follow_redirects=False, raise_server_exceptions=False), factory, users


def _answer(response) -> tuple[int, dict[str, str], bytes]:  # type: ignore[no-untyped-def]
    return response.status_code, dict(response.headers), response.content


def _post(client: TestClient, role: str | None, lecture: str, kwargs: dict) -> tuple[int, dict[str, str], bytes]:
    kwargs = dict(kwargs)
    return _answer(client.post(_url(lecture), headers={**auth(role), **kwargs.pop("headers", {})}, **kwargs))


def _stored(factory: sessionmaker[Session], users: dict[str, str]) -> tuple:
    with factory() as session:
        events = session.scalar(select(func.count()).select_from(ProgressEventRow))
    return events, {
        (role, lecture): load_progress(factory, name, lecture).watched_seconds
        for role, name in users.items()
        for lecture in (LECTURE_ID, PROCESSING)
    }


def test_the_setting_installs_the_fast_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Is the fast path in front of the app by default, and absent with ``perf.fast_progress = false``?"""
    assert load_settings(data_dir_environ(tmp_path)).perf.fast_progress is True
    for mode in MODES:
        client, _, _ = _client(tmp_path, mode)
        installed = any(m.cls is ProgressFastPath for m in client.app.user_middleware)  # type: ignore[attr-defined]
        assert installed is (mode == "on")


def test_every_answer_is_the_routes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Does each post — accepted, replayed, clamped, refused (401, 403, 404, 409) or invalid (422) — get the same
    status, headers and body with the fast path as through the FastAPI route, and is the same stored?"""
    answers, stored = {}, {}
    for mode in MODES:
        client, factory, users = _client(tmp_path, mode)
        with client:
            answers[mode] = [_post(client, role, lecture, kwargs) for _, role, lecture, kwargs in POSTS]
            answers[mode] += [
                _answer(client.get(_url(), headers=auth("member"))),  # passes through
                _answer(client.post(_url() + "/", json=GOOD, headers=auth("member"))),
            ]
        stored[mode] = _stored(factory, users)
    for (what, *_), on, off in zip(POSTS, answers["on"], answers["off"], strict=False):
        assert on == off, what
    assert answers["on"] == answers["off"] and stored["on"] == stored["off"]
    statuses = {what: status for (what, *_), (status, _, _) in zip(POSTS, answers["on"], strict=False)}
    assert statuses["a good post"] == 200 and statuses["an unknown kind"] == 422
    assert (statuses["no credential"], statuses["an inactive member"], statuses["a hub user not in the roster"]) == (
        401,
        403,
        403,
    )
    assert (statuses["another commune's lecture is invisible"], statuses["a lecture without a duration"]) == (404, 409)
    assert statuses["a body past the fast path's limit"] == 200
    assert stored["on"][1]["member", LECTURE_ID] == 180.0 and stored["on"][1]["secretary", LECTURE_ID] == 600.0


def test_a_failed_write_is_a_500_never_an_acknowledgement(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """When the database refuses the write, is the answer the app's last-resort 500 (a message, not a traceback)
    with nothing acknowledged or stored?"""
    for mode in MODES:
        client, factory, users = _client(tmp_path, mode)
        with client:
            assert client.post(_url(), json=GOOD, headers=auth("member")).status_code == 200  # warms the caches
            with transaction(factory) as session:
                session.execute(text(f"DROP TABLE {ProgressEventRow.__tablename__}"))
            late = {"events": [_event("late", start=300, end=360, seq=9)]}
            response = client.post(_url(), json=late, headers=auth("member"))
            assert (response.status_code, response.json()) == (500, {"detail": t("api.internal_error")}), mode
        assert load_progress(factory, users["member"], LECTURE_ID).watched_seconds == 120.0


@pytest.mark.parametrize("mode", MODES)
def test_the_hub_cookie_counts_only_with_the_portal_header(tmp_path, mode: str) -> None:  # type: ignore[no-untyped-def]
    """With a hub login cookie, is a post refused (401) unless the portal's own header comes with it, and
    accepted with it — both ways?"""
    hub = OfflineHubOAuth(
        users={"member-token": {"kind": "user", "name": "a1001", "scopes": ["access:services!service=diemcau"]}},
        codes={"the-code": "member-token"},
        api_token="service-secret",
        oauth_client_id="service-diemcau",
        base_url=PREFIX + "/",
        hub_prefix="/hub/",
        api_url="http://127.0.0.1:8081/hub/api",
        access_scopes={"access:services!service=diemcau"},
    )
    client, _, _ = _client(tmp_path, mode, HubIdentity(hub))
    with client:
        login = client.get(f"{PREFIX}/", headers={"Accept": "text/html"})
        state = parse_qs(urlsplit(login.headers["location"]).query)["state"][0]
        assert client.get(f"{PREFIX}/oauth_callback", params={"code": "the-code", "state": state}).status_code == 302
        refused = client.post(_url(), json=GOOD)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        accepted = client.post(_url(), json=GOOD, headers={"X-Diemcau-Request": "1"})
        assert accepted.status_code == 200 and accepted.json()["watched_seconds"] == 120.0
        by_token = client.post(_url(), json=GOOD, headers={"Authorization": "token member-token"})
        assert by_token.json() == accepted.json()
