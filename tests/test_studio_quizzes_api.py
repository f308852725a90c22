"""Quiz authoring routes of the studio: open a saved spec, validate, preview as a member, release — through the
real app, nbgrader included; who may call them is in tests/test_api_authz.py."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from diemcau.adapters.db.models_quiz import QuizRow
from diemcau.i18n import t
from tests.apiclient import PREFIX, auth, seeded_client
from tests.quiz_support import quiz_yaml, sharing_database, write_spec

BASE = f"{PREFIX}/api/studio/quizzes/nq-cb-a1"
WRONG = """\
title: Kiểm tra
attempts: 0
questions:
  - id: q1
    type: single
    text: Câu một?
    options: [Đúng, Sai]
    answer: C
  - id: q1
    type: essay
    text: Viết.
    answer: gì đó
"""


@pytest.fixture
def client(settings, sqlite_factory):  # type: ignore[no-untyped-def]
    """The API on the seeded province, nbgrader's gradebooks beside the data directory."""
    api, _ = seeded_client(sharing_database(settings, sqlite_factory), sqlite_factory)
    return api


def test_validate_lists_every_problem_with_line_and_field(client) -> None:  # type: ignore[no-untyped-def]
    """Does a wrong spec get every problem, placed by line and field, in Vietnamese — and a right one its size?"""
    body = client.post(f"{BASE}/kt/validate", json={"yaml": WRONG}, headers=auth("trainer")).json()
    assert body["valid"] is False
    found = {(p["line"], p["field"]) for p in body["problems"]}
    assert found == {(2, "attempts"), (8, "questions[1].answer"), (9, "questions[2].id"), (12, "questions[2].answer")}
    answer = next(p for p in body["problems"] if p["field"] == "questions[1].answer")
    assert answer["message"] == t("quiz_spec.answer_not_option", answer="C", known="A, B")
    good = client.post(f"{BASE}/kt/validate", json={"yaml": quiz_yaml()}, headers=auth("trainer")).json()
    assert good == {"valid": True, "problems": [], "questions": 5, "total_points": 10.0}


def test_unreadable_yaml_is_one_placed_problem(client) -> None:  # type: ignore[no-untyped-def]
    """Is broken YAML reported on its line rather than as a server error?"""
    body = client.post(f"{BASE}/kt/validate", json={"yaml": "title: [a\nquestions:\n"}, headers=auth("admin")).json()
    assert body["valid"] is False and len(body["problems"]) == 1 and body["problems"][0]["line"]


def test_preview_is_the_members_view_without_keys(client) -> None:  # type: ignore[no-untyped-def]
    """Does the preview show questions, options and rules as a member sees them, and no answer?"""
    response = client.post(f"{BASE}/kt/preview", json={"yaml": quiz_yaml()}, headers=auth("trainer"))
    assert response.status_code == 200
    quiz = response.json()
    assert [q["id"] for q in quiz["questions"]] == ["q1", "q2", "q3", "q4", "bai_thu_hoach"]
    assert quiz["questions"][0]["options"] == [
        {"id": "A", "text": "Sai"},
        {"id": "B", "text": "Đúng"},
        {"id": "C", "text": "Cũng sai"},
    ]
    assert quiz["total_points"] == 10 and quiz["attempts_allowed"] == 2 and quiz["counts"] == "last"
    assert "answer" not in response.text and "Hà Nội" not in response.text


def test_preview_of_a_wrong_spec_is_422_with_the_problems(client) -> None:  # type: ignore[no-untyped-def]
    """Does a wrong spec preview as a 422 whose detail counts the problems and lists them?"""
    response = client.post(f"{BASE}/kt/preview", json={"yaml": WRONG}, headers=auth("trainer"))
    assert response.status_code == 422
    assert response.json()["detail"] == t("studio.quiz_invalid", count=4) and len(response.json()["problems"]) == 4


def test_release_opens_the_quiz_and_saves_the_spec(client, settings) -> None:  # type: ignore[no-untyped-def]
    """Does a release make the quiz takeable by the course's members and save the YAML in the course folder,
    the same as `diemcau quiz release` from that file would?"""
    text = quiz_yaml(essay=False)
    response = client.post(f"{BASE}/tuan-1/release", json={"yaml": text}, headers=auth("trainer"))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "course_id": "nq-cb-a1",
        "quiz_id": "tuan-1",
        "title": "Kiểm tra chuyên đề chi bộ",
        "questions": 4,
        "total_points": 5.0,
        "spec_file": "nq-cb-a1/quizzes/tuan-1.yaml",
    }
    assert (settings.courses_dir / "nq-cb-a1" / "quizzes" / "tuan-1.yaml").read_text(encoding="utf-8") == text
    member = client.get(f"{PREFIX}/api/quizzes/nq-cb-a1/tuan-1", headers=auth("member"))
    assert member.status_code == 200 and len(member.json()["questions"]) == 4


def test_a_wrong_release_leaves_nothing(client, settings, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Is a wrong spec refused with its problems, no file written, no quiz released?"""
    response = client.post(f"{BASE}/tuan-2/release", json={"yaml": WRONG}, headers=auth("trainer"))
    assert response.status_code == 422 and len(response.json()["problems"]) == 4
    assert not (settings.courses_dir / "nq-cb-a1" / "quizzes").exists()
    with sqlite_factory() as session:
        assert session.scalar(select(func.count()).select_from(QuizRow)) == 0


def test_a_saved_spec_opens_as_written(client, settings) -> None:  # type: ignore[no-untyped-def]
    """Does a trainer (and an admin) get the course folder's spec exactly as written, for the form to open?"""
    text = quiz_yaml() + "# sửa tay\n"
    write_spec(settings, text, "tuan-1")
    for role in ("trainer", "admin"):
        response = client.get(f"{BASE}/tuan-1", headers=auth(role))
        assert response.status_code == 200, response.text
        assert response.json() == {
            "course_id": "nq-cb-a1",
            "quiz_id": "tuan-1",
            "yaml": text,
            "spec_file": "nq-cb-a1/quizzes/tuan-1.yaml",
        }


@pytest.mark.parametrize("role", ["member", "secretary"])
def test_members_and_secretaries_cannot_read_a_spec(client, settings, role: str) -> None:  # type: ignore
    """Is the spec — answer keys included — refused to a member and to a cell secretary, as the other studio
    routes are?"""
    write_spec(settings, quiz_yaml(), "tuan-1")
    response = client.get(f"{BASE}/tuan-1", headers=auth(role))
    assert response.status_code == 403 and response.json()["detail"] == t("api.forbidden")
    assert "Hà Nội" not in response.text


def test_a_quiz_without_a_saved_spec_is_404(client) -> None:  # type: ignore[no-untyped-def]
    """Does a quiz with no file in the course folder get a 404 that says so in Vietnamese?"""
    response = client.get(f"{BASE}/chua-co", headers=auth("trainer"))
    assert response.status_code == 404
    assert response.json()["detail"] == t("studio.quiz_spec_not_found", quiz="chua-co")


def test_a_released_quiz_opens_again_and_releases_again(client, settings) -> None:  # type: ignore
    """Does a released quiz open with the text it was released from, and does releasing a corrected text replace
    the file and what members see?"""
    text = quiz_yaml(essay=False)
    assert client.post(f"{BASE}/tuan-1/release", json={"yaml": text}, headers=auth("trainer")).status_code == 200
    opened = client.get(f"{BASE}/tuan-1", headers=auth("trainer")).json()["yaml"]
    assert opened == text
    fixed = opened.replace("Kiểm tra chuyên đề chi bộ", "Kiểm tra chuyên đề chi bộ (đã sửa)")
    again = client.post(f"{BASE}/tuan-1/release", json={"yaml": fixed}, headers=auth("trainer"))
    assert again.status_code == 200, again.text
    assert client.get(f"{BASE}/tuan-1", headers=auth("trainer")).json()["yaml"] == fixed
    member = client.get(f"{PREFIX}/api/quizzes/nq-cb-a1/tuan-1", headers=auth("member")).json()
    assert member["title"] == "Kiểm tra chuyên đề chi bộ (đã sửa)"


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        (f"{PREFIX}/api/studio/quizzes/khong-co/kt/validate", 404, t("api.course_not_found")),
        (f"{BASE}/Kiểm-Tra/validate", 422, t("studio.bad_quiz_id", quiz="Kiểm-Tra")),
    ],
)
def test_unknown_course_and_bad_quiz_id(client, path: str, status: int, message: str) -> None:  # type: ignore
    """Are a course that does not exist and a quiz id that cannot be a file name refused with the reason?"""
    response = client.post(path, json={"yaml": quiz_yaml()}, headers=auth("trainer"))
    assert response.status_code == status and response.json()["detail"] == message
