"""Hostile input: what a fuzzer sent that made the API answer 500, and why a 500 must not poison a connection.

Each case here was a 500 (an ``OverflowError`` from the database driver, a 422 that could not be rendered, a
``RecursionError``) and is now a 422 at the schema or the request guard (``apps.api.schemas.input_rules``,
``apps.api.plumbing.input_guard``). Progress posts run with the fast path on and off: it parses before FastAPI does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import PlainTextResponse

from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker
from diemcau.adapters.db.models_progress import ProgressEventRow
from diemcau.adapters.db.models_questions import LectureQuestionRow
from diemcau.apps.api.app import create_app
from diemcau.apps.api.plumbing.input_guard import LastResort, render_validation_error
from diemcau.apps.api.schemas.input_rules import INT32_MAX, MAX_JSON_BYTES, HostileJson, loads_strict
from diemcau.i18n import t
from diemcau.settings import load_settings
from tests.apiclient import PREFIX, auth, token_of
from tests.data_dirs import data_dir_environ
from tests.fakes import StaticTokenIdentity
from tests.hubserver import free_port
from tests.media_fixtures import seed_lecture_media
from tests.question_fixtures import AUTHZ_QUESTION, seed_authz_questions
from tests.seed import TODAY, seed_small_province
from tests.transcript_fixtures import LECTURE_ID

JSON = {"Content-Type": "application/json"}
PROGRESS = f"{PREFIX}/api/lectures/{LECTURE_ID}/progress"
QUESTIONS = f"{PREFIX}/api/lectures/{LECTURE_ID}/questions"


def _event(**change: object) -> dict:
    return {"event_id": "e1", "kind": "heartbeat", "start": 0, "end": 10, "seq": 1, **change}


def _raw_event(field: str, literal: str) -> bytes:
    """A progress body whose ``field`` is ``literal`` as written (what ``json.dumps`` would never write)."""
    event = json.dumps(_event(**{field: "__X__"})).replace('"__X__"', literal)
    return b'{"events": [%s]}' % event.encode()


@pytest.fixture(params=["fast", "route"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, sessionmaker[Session]]]:
    """The app on the small province with a ready lecture and two questions; the progress fast path on or off."""
    environ = data_dir_environ(tmp_path, DIEMCAU_PERF__FAST_PROGRESS=str(request.param == "fast").lower())
    settings = load_settings(environ)
    engine = make_engine(f"sqlite:///{tmp_path / 'app.sqlite'}")
    ensure_schema(engine)
    factory = make_sessionmaker(engine)
    users = seed_small_province(factory)["users"]
    seed_lecture_media(settings, factory)
    seed_authz_questions(factory)
    identity = StaticTokenIdentity({token_of(role): name for role, name in users.items()})
    app = create_app(settings, identity, session_factory=factory, today=lambda: TODAY)
    yield TestClient(app, raise_server_exceptions=False), factory
    engine.dispose()


def _count(factory: sessionmaker[Session], row: type) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(row)) or 0


def _refused(response) -> str:  # type: ignore[no-untyped-def]
    """The message of a 422 (asserting it is one, with FastAPI's error-list shape)."""
    assert response.status_code == 422, (response.status_code, response.text[:300])
    detail = response.json()["detail"]
    assert isinstance(detail, list) and all({"loc", "msg", "type"} <= set(e) for e in detail)
    return " ".join(e["msg"] for e in detail)


@pytest.mark.parametrize("seq", [2**31, 2**63, 2**64, -(2**63) - 1])
def test_a_sequence_number_past_the_database_is_refused(client, seq: int) -> None:
    """Is a progress ``seq`` the database cannot hold a 422 (it was an ``OverflowError``, a 500), storing nothing?"""
    app, factory = client
    _refused(app.post(PROGRESS, json={"events": [_event(seq=seq)]}, headers=auth("member")))
    assert _count(factory, ProgressEventRow) == 0
    ok = app.post(PROGRESS, json={"events": [_event(seq=INT32_MAX)]}, headers=auth("member"))
    assert ok.status_code == 200 and _count(factory, ProgressEventRow) == 1


@pytest.mark.parametrize("offset", [str(2**63), str(2**64), "99999999999999999999999999"])
def test_a_huge_member_offset_is_refused(client, offset: str) -> None:
    """Is ``/api/members?offset=`` past the database's integers a 422 (it was a 500)?"""
    app, _ = client
    _refused(app.get(f"{PREFIX}/api/members", params={"offset": offset}, headers=auth("secretary")))
    assert app.get(f"{PREFIX}/api/members", params={"offset": 1}, headers=auth("secretary")).status_code == 200


@pytest.mark.parametrize("question", [str(2**63), str(2**31), "-1", "0"])
def test_a_question_id_past_the_database_is_refused(client, question: str) -> None:
    """Is a question id no row can have a 422 on answering and hiding (it was a 500 past 2^63)?"""
    app, _ = client
    body = {"text": "Trả lời", "scope": "cell"}
    _refused(app.post(f"{PREFIX}/api/questions/{question}/answer", json=body, headers=auth("trainer")))
    _refused(app.post(f"{PREFIX}/api/questions/{question}/hide", json={"hidden": True}, headers=auth("trainer")))
    answered = app.post(f"{PREFIX}/api/questions/{AUTHZ_QUESTION}/answer", json=body, headers=auth("trainer"))
    assert answered.status_code == 200


@pytest.mark.parametrize(
    ("field", "literal"),
    [
        ("start", "NaN"),
        ("end", "Infinity"),
        ("start", "-Infinity"),
        ("end", "1e999"),
        ("seq", "NaN"),
        ("start", '"nan"'),
        ("end", '"inf"'),
    ],
)
def test_nan_and_infinity_in_progress_are_refused(client, field: str, literal: str) -> None:
    """Are NaN and the infinities (as JSON's extensions, an overflowing number or text) a 422 — the 422 itself
    was a 500, unable to echo NaN — and is nothing recorded?"""
    app, factory = client
    _refused(app.post(PROGRESS, content=_raw_event(field, literal), headers={**auth("member"), **JSON}))
    assert _count(factory, ProgressEventRow) == 0


def test_nan_as_a_question_moment_is_refused(client) -> None:
    """Is a question asked at NaN seconds refused, and not stored?"""
    app, factory = client
    before = _count(factory, LectureQuestionRow)
    body = b'{"moment": NaN, "text": "C\\u00e2u h\\u1ecfi"}'
    assert t("input.not_finite") in _refused(app.post(QUESTIONS, content=body, headers={**auth("member"), **JSON}))
    assert _count(factory, LectureQuestionRow) == before


@pytest.mark.parametrize("url", [PROGRESS, QUESTIONS])
@pytest.mark.parametrize("depth", [50_000, 1_000, 40])
def test_deep_nesting_is_refused(client, url: str, depth: int) -> None:
    """Are deeply nested brackets a 422 with a reason (50,000 was a 500; without a content type too)?"""
    app, _ = client
    body = b"[" * depth + b"]" * depth
    assert t("input.too_deep") in _refused(app.post(url, content=body, headers={**auth("member"), **JSON}))
    assert t("input.too_deep") in _refused(app.post(url, content=body, headers=auth("member")))


def test_a_lone_surrogate_in_question_text_is_refused(client) -> None:
    """Is question text holding a lone surrogate (no UTF-8 for it) a 422 and not stored (it was a 500)? A valid
    surrogate pair, written as escapes, is an ordinary character and is kept."""
    app, factory = client
    before = _count(factory, LectureQuestionRow)
    lone = b'{"moment": 5, "text": "C\\u00e2u h\\u1ecfi \\ud800"}'
    assert t("input.not_utf8") in _refused(app.post(QUESTIONS, content=lone, headers={**auth("member"), **JSON}))
    assert _count(factory, LectureQuestionRow) == before
    pair = b'{"moment": 5, "text": "C\\u00e2u h\\u1ecfi \\ud83d\\ude00"}'
    asked = app.post(QUESTIONS, content=pair, headers={**auth("member"), **JSON})
    assert asked.status_code == 201 and asked.json()["text"].endswith("\U0001f600")


@pytest.mark.parametrize(
    "body",
    [
        b'{"events": [{"event_id": "\\udfff", "kind": "heartbeat", "start": 0, "end": 10, "seq": 1}]}',
        b'{"events": [{"event_id": "\xed\xa0\x80", "kind": "heartbeat", "start": 0, "end": 10, "seq": 1}]}',
        b'{"events": [{"event_id": "\xff", "kind": "heartbeat", "start": 0, "end": 10, "seq": 1}]}',
    ],
)
def test_text_that_is_not_utf8_is_refused_on_progress(client, body: bytes) -> None:
    """Is an event id that is not UTF-8 text (an escaped lone surrogate, CESU-8 bytes, a stray byte) a 422
    before the fast path or the database sees it?"""
    app, factory = client
    _refused(app.post(PROGRESS, content=body, headers={**auth("member"), **JSON}))
    assert _count(factory, ProgressEventRow) == 0


def test_a_body_past_the_limit_is_refused(client) -> None:
    """Is a JSON body past ``MAX_JSON_BYTES`` a 413, read no further?"""
    app, _ = client
    body = b'{"moment": 5, "text": "%s"}' % (b"a" * MAX_JSON_BYTES)
    assert app.post(QUESTIONS, content=body, headers={**auth("member"), **JSON}).status_code == 413


def test_response_timestamps_carry_their_timezone(client) -> None:
    """Do timestamps the database keeps naive (SQLite, and PostgreSQL's ``timestamp``) reach clients with their
    offset (RFC 3339), e.g. when a question was asked?"""
    app, _ = client
    questions = app.get(QUESTIONS, headers=auth("trainer")).json()
    assert questions and all(dt.datetime.fromisoformat(q["created_at"]).tzinfo is not None for q in questions)
    code = app.post(f"{PREFIX}/api/members/a1001/activation-code", headers=auth("secretary")).json()
    assert dt.datetime.fromisoformat(code["expires_at"]).utcoffset() == dt.timedelta(0)


def test_the_strict_parser_refuses_what_json_does_not_allow() -> None:
    """Does ``loads_strict`` take plain JSON and refuse each extension Python's ``json`` accepts?"""
    assert loads_strict(b'{"a": [1, 2.5, "x\\u00e9", null, true]}') == {"a": [1, 2.5, "xé", None, True]}
    refusals = {
        b"NaN": "not_finite",
        b"[-Infinity]": "not_finite",
        b"[1e400]": "not_finite",
        b"[" * 33 + b"]" * 33: "too_deep",
        b'{"\\udc00": 1}': "not_utf8",
        b'"\xc3"': "not_utf8",
    }
    for body, code in refusals.items():
        with pytest.raises(HostileJson) as refused:
            loads_strict(body)
        assert refused.value.code == code, body
    with pytest.raises(json.JSONDecodeError):
        loads_strict(b"{")


def test_a_validation_error_echoing_unencodable_input_still_renders() -> None:
    """Does the 422 of an input JSON cannot carry (NaN, a lone surrogate, deep nesting) render, less the input,
    instead of failing as a 500?"""
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    errors = [
        {"type": "float_parsing", "loc": ("body", "x"), "msg": "bad", "input": float("nan")},
        {"type": "string_type", "loc": ("body", "\ud800"), "msg": "bad", "input": "\ud800"},
        {"type": "list_type", "loc": ("body", "y"), "msg": "bad", "input": deep},
    ]
    response = asyncio.run(render_validation_error(None, RequestValidationError(errors)))  # type: ignore[arg-type]
    detail = json.loads(response.body)["detail"]
    assert response.status_code == 422 and [e["type"] for e in detail] == ["float_parsing", "string_type", "list_type"]
    assert all("input" not in e for e in detail) and detail[1]["loc"] == ["body", "?"]


class RaisingApp:
    """An ASGI app standing in for a route with a bug: ``/boom`` raises, anything else answers ``ok``."""

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] == "lifespan":
            return
        if scope["path"] == "/boom":
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        await PlainTextResponse("ok")(scope, receive, send)


def _exchange(sock: socket.socket, path: str, method: str = "GET", body: bytes = b"", token: str = "") -> bytes:
    """One keep-alive request on ``sock``: the status line of its answer (the body read by its length)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\nContent-Length: {len(body)}\r\n"
    head += "Content-Type: application/json\r\n" if body else ""
    head += f"Authorization: token {token}\r\n" if token else ""
    sock.sendall(head.encode() + b"\r\n" + body)
    reader = sock.makefile("rb")
    status = reader.readline()
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    reader.read(length)
    return status


def test_an_unexpected_error_keeps_the_connection() -> None:
    """Behind ``LastResort``, does a route's bug answer 500 and leave the keep-alive connection usable for the
    next request, on a real uvicorn? (Without it uvicorn closed the connection, and the proxy, reusing it for
    another member, answered that member 503.)"""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(LastResort(RaisingApp()), port=port, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            assert _exchange(sock, "/boom").startswith(b"HTTP/1.1 500")
            assert _exchange(sock, "/ok").startswith(b"HTTP/1.1 200")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.hub
def test_a_refused_request_leaves_the_proxys_connections_healthy(hub) -> None:  # type: ignore[no-untyped-def]
    """Through the real proxy: after a member's hostile heartbeat (NaN: a 500 that closed the API's connection),
    does the next request on the same keep-alive connection, and another member's on their own, succeed? (They
    were answered 503 by the proxy, which had reused the closed upstream connection.)"""
    host, port = hub.url.removeprefix("http://").rstrip("/").split(":")
    mine, theirs = hub.token_for("42000002"), hub.token_for("42000001")
    hostile = _raw_event("start", "NaN")
    progress = f"{PREFIX}/api/lectures/no-such-lecture/progress"
    statuses = []
    with (
        socket.create_connection((host, int(port)), timeout=30) as sock,
        socket.create_connection((host, int(port)), timeout=30) as other,
    ):
        for _ in range(10):
            statuses.append(_exchange(sock, progress, "POST", hostile, mine).split()[1])
            statuses.append(_exchange(sock, f"{PREFIX}/api/me", token=mine).split()[1])
            statuses.append(_exchange(other, f"{PREFIX}/api/me", token=theirs).split()[1])
    assert statuses == [b"422", b"200", b"200"] * 10


@pytest.mark.hub
def test_a_bad_percent_encoding_is_not_a_proxy_error(hub) -> None:  # type: ignore[no-untyped-def]
    """Is ``GET /%`` (no valid percent-encoding) a 404 from the proxy, without a login, instead of its 500, and
    does the connection go on serving?"""
    host, port = hub.url.removeprefix("http://").rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        assert _exchange(sock, "/%").split()[1] == b"404"
        assert _exchange(sock, "/services/diemcau/%zz").split()[1] == b"404"
        assert _exchange(sock, f"{PREFIX}/health").split()[1] == b"200"


@pytest.mark.hub
def test_odd_credentials_and_query_text_are_not_server_errors(hub) -> None:  # type: ignore[no-untyped-def]
    """Through the real hub: a token of bytes that are not ASCII, and query text that is not UTF-8, are answered
    below 500 (the token is looked up with the hub, the text reaches the search)."""
    host, port = hub.url.removeprefix("http://").rstrip("/").split(":")
    token = hub.token_for("42000002")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            f"GET {PREFIX}/api/me HTTP/1.1\r\nHost: test\r\nAuthorization: token ".encode()
            + b"\xff\xfe\xc3\xa9"
            + b"\r\n\r\n"
        )
        status = sock.makefile("rb").readline()
    assert status.split()[1] == b"401", status
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        for query in ("q=%ED%A0%80", "q=%FF%FE", "q=" + "%5B" * 2000):
            assert int(_exchange(sock, f"{PREFIX}/api/search?{query}", token=token).split()[1]) < 500, query


def test_a_schema_refusal_names_the_field_in_vietnamese_and_echoes_nothing(client) -> None:
    """Does a 422 from the schema say in Vietnamese which field was refused, without reflecting what was sent
    (a refusal that echoes the body hands an attacker's text back to whoever reads it)?"""
    app, _ = client
    marker = "<script>dấu-vết</script>"
    refused = app.post(PROGRESS, json={"events": [_event(seq=2**40)], "note": marker}, headers=auth("member"))
    assert refused.status_code == 422
    body = refused.json()
    assert body["message"] == t("input.invalid_fields", fields="events.0.seq")
    assert marker not in refused.text and str(2**40) not in refused.text


def test_the_routers_own_refusals_are_vietnamese(client) -> None:
    """Does an address no route serves, or a method a route does not take, answer in Vietnamese (it was the
    router's English "Not Found" / "Method Not Allowed"), keeping the status and the Allow header, while a
    route's own 404 keeps its message?"""
    app, _ = client
    missing = app.get(f"{PREFIX}/api/khong-co-dia-chi-nay", headers=auth("member"))
    assert (missing.status_code, missing.json()["detail"]) == (404, t("api.no_such_address"))
    wrong_method = app.delete(f"{PREFIX}/api/courses", headers=auth("member"))
    assert (wrong_method.status_code, wrong_method.json()["detail"]) == (405, t("api.method_not_allowed"))
    assert "GET" in wrong_method.headers["allow"]
    course = app.get(f"{PREFIX}/api/courses/khong-co", headers=auth("member"))
    assert (course.status_code, course.json()["detail"]) == (404, t("api.course_not_found"))


def test_a_browser_sent_to_an_address_that_does_not_exist_gets_a_vietnamese_page(client) -> None:
    """A member following a mistyped or stale link (``…/tim-kiem`` for ``…/search``): does the phone show a
    Vietnamese page with the way back to the portal (it showed raw JSON), while an API client still gets JSON?"""
    app, _ = client
    page = app.get(f"{PREFIX}/tim-kiem?q=x", headers={**auth("member"), "Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert html.escape(t("api.no_such_address")) in page.text
    assert f'href="{PREFIX}/"' in page.text and html.escape(t("portal.link_home")) in page.text, "the way back"
    api = app.get(f"{PREFIX}/api/tim-kiem", headers={**auth("member"), "Accept": "text/html,*/*;q=0.8"})
    assert (api.status_code, api.json()["detail"]) == (404, t("api.no_such_address"))
