"""``GET /api/search``: hits limited to the courses each kind of caller may see, and safe for any query."""

from __future__ import annotations

import pytest

from diemcau.core.transcript import Segment
from diemcau.search.index import LectureMeta
from diemcau.search.indexer import open_index
from tests.apiclient import PREFIX, auth, seeded_client
from tests.test_search_query import HOSTILE

COURSES = ("nq-tinh", "nq-xa-a", "nq-cb-a1", "nq-cb-b1")  # tests/seed.py
VISIBLE = {
    "member": {"nq-tinh", "nq-xa-a", "nq-cb-a1"},
    "other_cell": {"nq-tinh", "nq-xa-a"},
    "secretary": {"nq-tinh", "nq-xa-a", "nq-cb-a1"},
    "committee": {"nq-tinh", "nq-xa-a", "nq-cb-a1"},
    "trainer": set(COURSES),
    "admin": set(COURSES),
}


@pytest.fixture
def client(settings, sqlite_factory):  # type: ignore[no-untyped-def]
    """The API on the seeded province, with one indexed lecture per course."""
    index = open_index(settings)
    for course in COURSES:
        text = f'Đảng viên học nghị quyết <script>alert("{course}")</script>'
        index.index_lecture(LectureMeta(f"lec-{course}", f"Bài {course}", course), [Segment(0, 65.5, 72, text)])
    index.close()
    test_client, _ = seeded_client(settings, sqlite_factory)
    return test_client


def courses_found(client, role: str, **params: object) -> set[str]:  # type: ignore[no-untyped-def]
    response = client.get(f"{PREFIX}/api/search", params={"q": "dang vien", **params}, headers=auth(role))
    assert response.status_code == 200, response.text
    return {hit["course_id"] for hit in response.json()}


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_each_role_sees_hits_only_in_visible_courses(client, role: str) -> None:  # type: ignore[no-untyped-def]
    """Does each kind of caller get hits from exactly the courses they may see?"""
    assert courses_found(client, role) == VISIBLE[role]


def test_course_parameter_narrows_but_never_widens(client) -> None:  # type: ignore[no-untyped-def]
    """Does ?course= narrow a member's hits, and give nothing for a course they may not see?"""
    assert courses_found(client, "member", course="nq-cb-a1") == {"nq-cb-a1"}
    assert courses_found(client, "member", course="nq-cb-b1") == set()
    assert courses_found(client, "other_cell", q="dang course:nq-cb-a1") == set()


def test_hit_shape_link_and_escaping(client) -> None:  # type: ignore[no-untyped-def]
    """Does a hit carry its lecture, times, an escaped snippet and a deep link to the player?"""
    response = client.get(
        f"{PREFIX}/api/search", params={"q": "nghị quyết", "course": "nq-tinh"}, headers=auth("member")
    )
    [hit] = response.json()
    assert hit["lecture_id"] == "lec-nq-tinh" and hit["title"] == "Bài nq-tinh" and hit["kind"] == "spoken"
    assert (hit["start"], hit["end"]) == (65.5, 72)
    assert hit["link"] == f"{PREFIX}/lectures/lec-nq-tinh?t=65"
    assert "<script" not in hit["snippet"] and "&lt;script&gt;" in hit["snippet"]
    assert "<mark>nghị</mark> <mark>quyết</mark>" in hit["snippet"]


@pytest.mark.parametrize("q", [q for q in HOSTILE[::2] if "\ud800" not in q])  # a URL cannot carry a lone surrogate
def test_hostile_queries_answer_200(client, q: str) -> None:  # type: ignore[no-untyped-def]
    """Does any query string get a 200 with a list, never a server error?"""
    response = client.get(f"{PREFIX}/api/search", params={"q": q}, headers=auth("member"))
    assert response.status_code == 200 and isinstance(response.json(), list)


def test_invalid_utf8_in_the_url_answers_200(client) -> None:  # type: ignore[no-untyped-def]
    """Do percent-encoded bytes that are not UTF-8 (a lone surrogate, NUL, 0xFF) still get a 200?"""
    response = client.get(f"{PREFIX}/api/search?q=%ED%A0%80%00%FFdang", headers=auth("member"))
    assert response.status_code == 200 and isinstance(response.json(), list)


def test_limit_out_of_range_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    """Is a limit outside 1..100 answered 422 with the reason, rather than clamped silently?"""
    response = client.get(f"{PREFIX}/api/search", params={"q": "đảng", "limit": 0}, headers=auth("member"))
    assert response.status_code == 422
    limited = client.get(f"{PREFIX}/api/search", params={"q": "đảng", "limit": 1}, headers=auth("admin"))
    assert len(limited.json()) == 1


def test_running_service_indexes_saved_transcripts(settings, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """While the service runs, is a transcript saved in its process (a trainer's correction) searchable at once,
    with no subscription to install (the route passes the change on to search itself)?"""
    from fastapi.testclient import TestClient

    from diemcau.adapters.db.engine import transaction
    from diemcau.adapters.db.models import LectureRow
    from diemcau.adapters.transcript_store import write_transcript
    from diemcau.core.transcript import Transcript

    client, _ = seeded_client(settings, sqlite_factory)
    with transaction(sqlite_factory) as session:
        session.add(LectureRow(id="lecLive", course_id="nq-tinh", title="Trực tiếp", status="ready"))
    write_transcript(settings.transcripts_dir, Transcript("lecLive", "vi", (Segment(0, 5, 9, "kinh tế tư nhân"),)))
    with TestClient(client.app) as running:

        def found() -> list[str]:
            response = running.get(f"{PREFIX}/api/search", params={"q": "chuyen doi so"}, headers=auth("member"))
            return [h["lecture_id"] for h in response.json()]

        assert found() == []
        edit = {"text": "chuyển đổi số"}
        corrected = running.patch(
            f"{PREFIX}/api/lectures/lecLive/transcript/segments/0", json=edit, headers=auth("trainer")
        )
        assert corrected.status_code == 200, corrected.text
        assert found() == ["lecLive"]
