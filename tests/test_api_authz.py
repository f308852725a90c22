"""The authorization matrix: every route of the API, for every kind of caller, with the expected answer.

Routes are enumerated from the app's OpenAPI description, so a route missing from ``EXPECTED`` fails the
test, and routes hidden from the description must be listed in ``app.UNDOCUMENTED_ROUTES``.
"""

from __future__ import annotations

import pytest
from fastapi.routing import iter_route_contexts

from diemcau.apps.api.app import UNDOCUMENTED_ROUTES, create_app
from tests.apiclient import PREFIX, auth, seeded_client
from tests.fakes import StaticTokenIdentity
from tests.media_fixtures import seed_lecture_media
from tests.transcript_fixtures import LECTURE_ID, seed_lecture_transcript
from tests.quiz_support import AUTHZ_QUIZ, AUTHZ_SUBMISSION, quiz_yaml, seed_authz_quiz, write_spec
from tests.question_fixtures import AUTHZ_QUESTION, SECRETARYS_QUESTION, seed_authz_questions
from tests.material_fixtures import AUTHZ_MATERIAL, seed_lecture_material

ROLES = ("anonymous", "member", "other_cell", "secretary", "committee", "trainer", "admin")

# What each list route returns, by the field that names a record.
RECORD_KEYS = {"/api/courses": "id", "/api/members": "card", "/api/org-units": "code", "/api/lectures": "id"}
TARGET = {"card": "a1001", "course_id": "nq-cb-a1"}  # path parameters: the member of cell A1, its cell's course
TARGET |= {"lecture_id": LECTURE_ID, "index": "0", "fmt": "xlsx"}  # a ready lecture of that course, with a transcript
TARGET |= {"path": "master.m3u8"}  # a media file of that lecture
TARGET |= {"quiz_id": AUTHZ_QUIZ, "submission_id": AUTHZ_SUBMISSION}  # its quiz, and an attempt of a1001
TARGET |= {"name": "player.js"}  # a static asset of the member pages
TARGET |= {"question_id": AUTHZ_QUESTION, "unit": "cb-a1"}  # a1001's question on that lecture, and its cell
TARGET |= {"material_name": AUTHZ_MATERIAL}  # a PDF attached to that lecture
TARGET |= {"edit_id": "1"}  # a correction of its transcript (none in the world)
RECORD_KEYS |= {"/api/quizzes/{course_id}": "quiz_id", "/api/quizzes/{course_id}/{quiz_id}/submissions": "member"}
RECORD_KEYS |= dict.fromkeys(
    ("/api/lectures/{lecture_id}/questions", "/api/questions/inbox", "/api/org-units/{unit}/questions/unanswered"), "id"
)

ALL_UNITS = {"tinh", "xa-a", "xa-b", "cb-a1", "cb-a2", "cb-b1"}
ALL_COURSES = {"nq-tinh", "nq-xa-a", "nq-cb-a1", "nq-cb-b1"}
CELL_A1 = {"a1001", "a1002", "a1003"}
COMMUNE_A = CELL_A1 | {"a2001", "a2002"}
ALL_MEMBERS = COMMUNE_A | {"b1001", "b1002", "b1003"}

# Per role: a status code, or (status, exact set of records) for list routes. Anonymous requests ask for HTML,
# so the portal page redirects to log in while every API route still answers 401.
READ_LECTURE = dict(anonymous=401, member=200, other_cell=404, secretary=200, committee=200, trainer=200, admin=200)
CONTENT_ONLY = dict(anonymous=401, member=403, other_cell=403, secretary=403, committee=403, trainer=200, admin=200)
MANAGE_MEMBER = dict(anonymous=401, member=403, other_cell=404, secretary=200, committee=403, trainer=404, admin=200)
READ_QUIZ = dict(anonymous=401, member=200, other_cell=404, secretary=200, committee=200, trainer=200, admin=200)
TAKE_QUIZ = dict(anonymous=401, member=204, other_cell=404, secretary=204, committee=403, trainer=403, admin=403)
EXPECTED: dict[tuple[str, str], dict[str, object]] = {
    ("GET", "/health"): dict.fromkeys(ROLES, 200),
    ("GET", "/"): {**dict.fromkeys(ROLES, 200), "anonymous": 302},
    ("GET", "/courses"): {**dict.fromkeys(ROLES, 200), "anonymous": 302},
    # The staff home: people's progress, so the completion scope (members and trainers refused, as a page).
    ("GET", "/staff"): dict(
        anonymous=302, member=403, other_cell=403, secretary=200, committee=200, trainer=403, admin=200
    ),
    ("GET", "/api/me"): {**dict.fromkeys(ROLES, 200), "anonymous": 401},
    ("GET", "/api/courses"): dict(
        anonymous=401,
        member=(200, {"nq-tinh", "nq-xa-a", "nq-cb-a1"}),
        other_cell=(200, {"nq-tinh", "nq-xa-a"}),
        secretary=(200, {"nq-tinh", "nq-xa-a", "nq-cb-a1"}),
        committee=(200, {"nq-tinh", "nq-xa-a", "nq-cb-a1"}),
        trainer=(200, ALL_COURSES),
        admin=(200, ALL_COURSES),
    ),
    ("GET", "/api/courses/{course_id}"): dict(
        anonymous=401, member=200, other_cell=404, secretary=200, committee=200, trainer=200, admin=200
    ),
    ("POST", "/api/courses"): dict(
        anonymous=401, member=403, other_cell=403, secretary=403, committee=403, trainer=201, admin=201
    ),
    ("GET", "/api/org-units"): dict(
        anonymous=401,
        member=(200, {"cb-a1"}),
        other_cell=(200, {"cb-a2"}),
        secretary=(200, {"cb-a1"}),
        committee=(200, {"xa-a", "cb-a1", "cb-a2"}),
        trainer=(200, ALL_UNITS),
        admin=(200, ALL_UNITS),
    ),
    ("GET", "/api/members"): dict(
        anonymous=401,
        member=(200, {"a1001"}),
        other_cell=(200, {"a2001"}),
        secretary=(200, CELL_A1),
        committee=(200, COMMUNE_A),
        trainer=(200, {"b1002"}),
        admin=(200, ALL_MEMBERS),
    ),
    ("GET", "/api/members/{card}"): dict(
        anonymous=401, member=200, other_cell=404, secretary=200, committee=200, trainer=404, admin=200
    ),
    ("POST", "/api/members/{card}/activation-code"): MANAGE_MEMBER,
    ("POST", "/api/members/{card}/reset-password"): MANAGE_MEMBER,
    ("POST", "/api/members/{card}/unlock"): MANAGE_MEMBER,
    ("GET", "/api/lectures/{lecture_id}/transcript"): READ_LECTURE,
    ("GET", "/api/lectures/{lecture_id}/captions.vtt"): READ_LECTURE,
    ("PATCH", "/api/lectures/{lecture_id}/transcript/segments/{index}"): CONTENT_ONLY,
    ("GET", "/api/lectures/{lecture_id}/transcript/history"): CONTENT_ONLY,
    ("GET", "/api/lectures/{lecture_id}/transcript/suggestions"): CONTENT_ONLY,
    ("GET", "/api/lectures/{lecture_id}/transcription"): CONTENT_ONLY,
    # The trainer queues it again; the admin, right after, finds it queued (busy).
    ("POST", "/api/lectures/{lecture_id}/transcription"): {**CONTENT_ONLY, "trainer": 202, "admin": 409},
    # The world has no edit to revert: staff pass the checks and get "no such edit".
    ("POST", "/api/lectures/{lecture_id}/transcript/history/{edit_id}/revert"): {
        **CONTENT_ONLY,
        "trainer": 404,
        "admin": 404,
    },
    # Everyone logged in may search; which hits each role gets is tested in tests/test_search_api.py.
    ("GET", "/api/search"): {**dict.fromkeys(ROLES, 200), "anonymous": 401},
    ("GET", "/api/lectures"): dict(
        anonymous=401,
        member=(200, {LECTURE_ID}),
        other_cell=(200, set()),
        secretary=(200, {LECTURE_ID}),
        committee=(200, {LECTURE_ID}),
        trainer=(200, {LECTURE_ID}),
        admin=(200, {LECTURE_ID}),
    ),
    ("GET", "/api/lectures/{lecture_id}"): READ_LECTURE,
    # Progress is always the caller's own: anyone who may watch the lecture may post and read theirs.
    ("POST", "/api/lectures/{lecture_id}/progress"): READ_LECTURE,
    ("GET", "/api/lectures/{lecture_id}/progress"): READ_LECTURE,
    # Completion follows oversight: members their own row, trainers (content, not people) are refused.
    ("GET", "/api/courses/{course_id}/completion"): dict(
        anonymous=401, member=200, other_cell=404, secretary=200, committee=200, trainer=403, admin=200
    ),
    ("GET", "/api/courses/{course_id}/report.{fmt}"): dict(
        anonymous=401, member=403, other_cell=403, secretary=200, committee=200, trainer=403, admin=200
    ),
    # Dashboard aggregates: completion ones follow the report's scope, lecture analytics are for content managers.
    ("GET", "/api/courses/{course_id}/completion/units"): dict(
        anonymous=401, member=403, other_cell=403, secretary=200, committee=200, trainer=403, admin=200
    ),
    ("GET", "/api/courses/{course_id}/completion/history"): dict(
        anonymous=401, member=403, other_cell=403, secretary=200, committee=200, trainer=403, admin=200
    ),
    ("GET", "/api/lectures/{lecture_id}/analytics"): CONTENT_ONLY,
    ("POST", "/api/screenings"): dict(
        anonymous=401, member=403, other_cell=403, secretary=201, committee=403, trainer=403, admin=201
    ),
    # The player page and the search page (pages: anonymous browsers are sent to log in); the player's scripts.
    ("GET", "/lectures/{lecture_id}"): {**READ_LECTURE, "anonymous": 302},
    ("GET", "/search"): {**dict.fromkeys(ROLES, 200), "anonymous": 302},
    ("GET", "/static/{name}"): {**dict.fromkeys(ROLES, 200), "anonymous": 302},
    ("GET", "/sw.js"): {**dict.fromkeys(ROLES, 200), "anonymous": 302},  # the offline service worker
    ("POST", "/api/lectures"): {**CONTENT_ONLY, "trainer": 202, "admin": 202},
    ("POST", "/api/lectures/upload"): {**CONTENT_ONLY, "trainer": 422, "admin": 422},  # no file sent
    ("GET", "/api/media/{lecture_id}/{path}"): READ_LECTURE,
    # nginx auth_request passes on only 401 and 403, so refusals there are 403.
    ("GET", "/api/media-auth/{lecture_id}/{path}"): dict(
        anonymous=401, member=204, other_cell=403, secretary=204, committee=204, trainer=204, admin=204
    ),
    # Quizzes: read with the course, taken by those who study it, essays graded by the member's secretary.
    ("GET", "/quizzes/{course_id}"): {**READ_QUIZ, "anonymous": 302},
    ("GET", "/quizzes/{course_id}/{quiz_id}"): {**READ_QUIZ, "anonymous": 302},
    ("GET", "/quizzes/{course_id}/{quiz_id}/grading"): dict(
        anonymous=302, member=403, other_cell=404, secretary=200, committee=403, trainer=403, admin=200
    ),
    ("GET", "/api/quizzes/{course_id}"): {
        **{role: (200, {AUTHZ_QUIZ}) for role in ROLES},
        "anonymous": 401,
        "other_cell": 404,
    },
    ("GET", "/api/quizzes/{course_id}/{quiz_id}"): READ_QUIZ,
    ("PUT", "/api/quizzes/{course_id}/{quiz_id}/draft"): TAKE_QUIZ,
    ("POST", "/api/quizzes/{course_id}/{quiz_id}/submissions"): {**TAKE_QUIZ, "member": 201, "secretary": 201},
    ("GET", "/api/quizzes/{course_id}/{quiz_id}/submissions"): dict(
        anonymous=401,
        member=(200, {"a1001"}),
        other_cell=404,
        secretary=(200, {"a1001"}),
        committee=(200, {"a1001"}),
        trainer=(200, set()),
        admin=(200, {"a1001"}),
    ),
    ("GET", "/api/quiz-submissions/{submission_id}"): dict(
        anonymous=401, member=200, other_cell=404, secretary=200, committee=200, trainer=404, admin=200
    ),
    # Past authorization, the category "?" is refused: so 422 marks who may grade.
    ("POST", "/api/quiz-submissions/{submission_id}/essay-grade"): dict(
        anonymous=401, member=403, other_cell=404, secretary=422, committee=403, trainer=404, admin=422
    ),
    # Studio quiz authoring (trainers, admins): a valid spec validates and previews; the release body is invalid,
    # so 422 marks who may release without running nbgrader here.
    # Opening the quiz's saved spec (written beside the seeded quiz; it holds the answer keys) is authoring too.
    ("GET", "/api/studio/quizzes/{course_id}/{quiz_id}"): CONTENT_ONLY,
    ("POST", "/api/studio/quizzes/{course_id}/{quiz_id}/validate"): CONTENT_ONLY,
    ("POST", "/api/studio/quizzes/{course_id}/{quiz_id}/preview"): CONTENT_ONLY,
    ("POST", "/api/studio/quizzes/{course_id}/{quiz_id}/release"): {**CONTENT_ONLY, "trainer": 422, "admin": 422},
    # Questions (two unanswered ones from cell A1, see tests/question_fixtures.py): anyone who sees the lecture asks;
    # a member sees their own, the secretary and committee their cell's, trainers of the course all, to answer them.
    ("POST", "/api/lectures/{lecture_id}/questions"): {
        **READ_LECTURE,
        **dict.fromkeys(("member", "secretary", "committee", "trainer", "admin"), 201),
    },
    ("GET", "/api/lectures/{lecture_id}/questions"): {
        **{role: (200, {AUTHZ_QUESTION, SECRETARYS_QUESTION}) for role in ROLES},
        "anonymous": 401,
        "member": (200, {AUTHZ_QUESTION}),
        "other_cell": 404,
    },
    ("POST", "/api/questions/{question_id}/answer"): dict(
        anonymous=401, member=403, other_cell=404, secretary=403, committee=403, trainer=200, admin=200
    ),
    # Hiding follows answering: the trainer hides a1001's question, the admin then restores it.
    ("POST", "/api/questions/{question_id}/hide"): dict(
        anonymous=401, member=403, other_cell=404, secretary=403, committee=403, trainer=200, admin=200
    ),
    ("GET", "/api/questions/inbox"): {
        **dict.fromkeys(ROLES, 403),
        "anonymous": 401,
        "trainer": (200, {AUTHZ_QUESTION, SECRETARYS_QUESTION}),
        "admin": (200, {AUTHZ_QUESTION, SECRETARYS_QUESTION}),
    },
    ("GET", "/api/org-units/{unit}/questions/unanswered"): {
        **dict.fromkeys(ROLES, 403),
        "anonymous": 401,
        **{role: (200, {AUTHZ_QUESTION, SECRETARYS_QUESTION}) for role in ("secretary", "committee", "admin")},
    },
    # Materials: trainers (content managers) attach and remove, whoever sees the lecture lists and downloads. No
    # file is sent, so 422 marks who may attach; the trainer removes the material first, so the admin finds none.
    ("POST", "/api/lectures/{lecture_id}/materials"): {**CONTENT_ONLY, "trainer": 422, "admin": 422},
    ("GET", "/api/lectures/{lecture_id}/materials"): READ_LECTURE,
    ("GET", "/api/lectures/{lecture_id}/materials/{material_name}"): READ_LECTURE,
    ("DELETE", "/api/lectures/{lecture_id}/materials/{material_name}"): {**CONTENT_ONLY, "trainer": 204, "admin": 404},
}


def documented_routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, path below the prefix) for every operation in the OpenAPI description."""
    paths = app.openapi()["paths"]
    return {(method.upper(), path.removeprefix(PREFIX) or "/") for path, ops in paths.items() for method in ops}


def request_body(method: str, path: str, role: str) -> dict | None:
    if (method, path) == ("POST", "/api/courses"):
        return {"id": f"new-{role.replace('_', '-')}", "title": "Chuyên đề mới", "audience": ["xa-b"]}
    if (method, path) == ("POST", "/api/lectures/{lecture_id}/transcription"):
        return {"force": False}
    if method == "PATCH" and path.startswith("/api/lectures/"):
        return {"text": f"Kính thưa các đồng chí ({role})"}  # differs per role, so each edit is a change
    if path.endswith("/progress") and method == "POST":
        return {"events": [{"event_id": f"e-{role}", "kind": "heartbeat", "start": 0, "end": 10, "seq": 1}]}
    if (method, path) == ("POST", "/api/screenings"):
        return {"lecture_id": LECTURE_ID, "held_on": "2026-11-20", "members": ["a1001"]}
    if path.endswith("/essay-grade"):
        return {"category": "?"}
    if (method, path) == ("POST", "/api/lectures/{lecture_id}/questions"):
        return {"moment": 12.5, "text": f"Câu hỏi của {role}"}
    if (method, path) == ("POST", "/api/questions/{question_id}/answer"):
        return {"text": f"Trả lời ({role})", "scope": "cell"}
    if (method, path) == ("POST", "/api/questions/{question_id}/hide"):
        return {"hidden": role != "admin", "reason": f"Ẩn bởi {role}"}
    if path.startswith("/api/studio/quizzes/"):
        return {"yaml": "title: ''\nquestions: []\n" if path.endswith("/release") else quiz_yaml()}
    if (method, path) == ("PUT", "/api/quizzes/{course_id}/{quiz_id}/draft"):
        return {"answers": {"q1": "A"}}
    if (method, path) == ("POST", "/api/quizzes/{course_id}/{quiz_id}/submissions"):
        return {"client_id": f"matrix-{role}", "answers": {"q1": "B"}}
    if (method, path) == ("POST", "/api/lectures"):  # a URL nobody serves: queued, never fetched here
        return {"course_id": "nq-cb-a1", "title": "Bài giảng mới", "url": f"http://127.0.0.1:9/{role}.mp4"}
    return None


def test_every_documented_route_has_expectations(settings, sqlite_factory) -> None:
    """Does the matrix cover exactly the routes the OpenAPI description lists?"""
    app = create_app(settings, StaticTokenIdentity({}), session_factory=sqlite_factory)
    assert documented_routes(app) == set(EXPECTED)


def test_no_route_hides_from_the_description(settings, sqlite_factory) -> None:
    """Is every route either documented (and so in the matrix) or deliberately undocumented?"""
    app = create_app(settings, StaticTokenIdentity({}), session_factory=sqlite_factory)
    routes = list(iter_route_contexts(app.routes))
    assert len(routes) > len(EXPECTED)  # the walk really reached the included routers
    hidden = {
        (method, route.path.removeprefix(PREFIX))
        for route in routes
        if not getattr(route, "include_in_schema", True)
        for method in route.methods or ()
    }
    assert hidden == UNDOCUMENTED_ROUTES


def seed_authz_world(settings, factory) -> None:  # type: ignore[no-untyped-def]
    """The records ``TARGET`` names, beside a seeded small province: a ready lecture with its transcript and
    media, a released quiz with a submission, two questions and a material (also the fuzz run's world)."""
    seed_lecture_transcript(settings.transcripts_dir, factory)
    seed_lecture_media(settings, factory)
    seed_authz_quiz(factory)
    write_spec(settings, quiz_yaml(attempts=3), AUTHZ_QUIZ)
    seed_authz_questions(factory)
    seed_lecture_material(settings, factory, LECTURE_ID)


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_route_answers_each_role_as_expected(settings, sqlite_factory, method: str, path: str) -> None:
    """Does each kind of caller get the status (and exactly the records) the matrix says?"""
    client, seeded = seeded_client(settings, sqlite_factory)
    seed_authz_world(settings, sqlite_factory)
    url = PREFIX + path.format(**TARGET)
    wrong = []
    for role in ROLES:
        expected = EXPECTED[(method, path)][role]
        status, records = expected if isinstance(expected, tuple) else (expected, None)
        headers = auth(None if role == "anonymous" else role, Accept="text/html,application/json")
        response = client.request(method, url, headers=headers, json=request_body(method, path, role))
        got = response.status_code
        if got != status:
            wrong.append(f"{role}: expected {status}, got {got} {response.text[:120]}")
        elif records is not None:
            names = {item[RECORD_KEYS[path]] for item in response.json()}
            if names != records:
                wrong.append(f"{role}: expected {sorted(records)}, got {sorted(names)}")
    assert not wrong, f"{method} {path}\n" + "\n".join(wrong)


def test_openapi_description_needs_login(settings, sqlite_factory) -> None:
    """Is the OpenAPI description itself behind authentication?"""
    client, _ = seeded_client(settings, sqlite_factory)
    assert client.get(f"{PREFIX}/openapi.json").status_code == 401
    response = client.get(f"{PREFIX}/openapi.json", headers=auth("member"))
    assert response.status_code == 200 and f"{PREFIX}/api/me" in response.json()["paths"]


@pytest.mark.parametrize("role", ["inactive", "stranger"])
def test_hub_users_outside_the_active_roster_are_refused(settings, sqlite_factory, role: str) -> None:
    """Does a hub user who is inactive or not in the roster get 403 on the API and on the portal?"""
    client, seeded = seeded_client(settings, sqlite_factory)
    client.app.state.context.identity.tokens["token-stranger"] = "nobody"
    assert client.get(f"{PREFIX}/api/me", headers=auth(role)).status_code == 403
    page = client.get(f"{PREFIX}/", headers=auth(role, Accept="text/html"))
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")


def test_health_is_public_and_says_only_ok(settings, sqlite_factory) -> None:
    """Does the public health probe reveal nothing but that the process answers?"""
    client, _ = seeded_client(settings, sqlite_factory)
    assert client.get(f"{PREFIX}/health").json() == {"status": "ok"}


def test_member_list_filters_by_org_unit(settings, sqlite_factory) -> None:
    """Does ``?org=`` narrow the list without widening what the viewer may read?"""
    client, _ = seeded_client(settings, sqlite_factory)

    def cards(role: str, org: str) -> set[str]:
        response = client.get(f"{PREFIX}/api/members", params={"org": org}, headers=auth(role))
        return {m["card"] for m in response.json()}

    assert cards("committee", "cb-a2") == {"a2001", "a2002"}
    assert cards("secretary", "xa-a") == CELL_A1
    assert cards("secretary", "cb-b1") == set()
    assert cards("admin", "no-such-unit") == set()


def test_course_creation_rejects_bad_input(settings, sqlite_factory) -> None:
    """Are a taken id, an unknown audience and a malformed id refused with a reason?"""
    client, _ = seeded_client(settings, sqlite_factory)
    post = lambda body: client.post(f"{PREFIX}/api/courses", json=body, headers=auth("trainer"))  # noqa: E731
    assert post({"id": "nq-tinh", "title": "x", "audience": ["tinh"]}).status_code == 409
    assert post({"id": "moi", "title": "x", "audience": ["khong-co"]}).status_code == 422
    assert post({"id": "Có Dấu", "title": "x", "audience": ["tinh"]}).status_code == 422
    created = post({"id": "moi", "title": "x", "audience": ["cb-b1"], "deadline": "2026-04-01"})
    assert created.status_code == 201 and created.json()["audience"] == ["cb-b1"]


def test_activation_code_and_reset(settings, sqlite_factory) -> None:
    """Does a secretary's new code expire after the configured days, and does a reset clear the password?"""
    client, _ = seeded_client(settings, sqlite_factory)
    issued = client.post(f"{PREFIX}/api/members/a1001/activation-code", headers=auth("secretary")).json()
    assert issued["card"] == "a1001" and len(issued["activation_code"]) >= 6
    reset = client.post(f"{PREFIX}/api/members/a1001/reset-password", headers=auth("secretary")).json()
    assert reset["activation_code"] != issued["activation_code"]
    member = client.get(f"{PREFIX}/api/members/a1001", headers=auth("secretary")).json()
    assert member["activated"] is False and member["login_wait_seconds"] == 0


def test_my_courses_carry_deadline_and_status(settings, sqlite_factory) -> None:
    """Does a member see days left and their derived status (overdue once the deadline passed)?"""
    client, _ = seeded_client(settings, sqlite_factory)
    courses = {c["id"]: c for c in client.get(f"{PREFIX}/api/courses", headers=auth("member")).json()}
    assert courses["nq-tinh"]["days_left"] == 20 and courses["nq-tinh"]["status"] == "not_started"
    assert courses["nq-xa-a"]["days_left"] == -2 and courses["nq-xa-a"]["status"] == "overdue"
    assert courses["nq-cb-a1"]["deadline"] is None
    committee = {c["id"]: c for c in client.get(f"{PREFIX}/api/courses", headers=auth("committee")).json()}
    assert committee["nq-cb-a1"]["enrolled"] is False and committee["nq-cb-a1"]["status"] is None
