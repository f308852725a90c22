"""Questions through the API: the round trip with cell scoping, the trainers' inbox, secretaries' and
committees' lists by age, every refusal (a Vietnamese message, nothing written), and the lecture analytics."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import MemberRow, OrgUnitRow
from diemcau.adapters.db.models_questions import LectureQuestionRow
from diemcau.i18n import t
from tests.apiclient import PREFIX, auth, seeded_client
from tests.transcript_fixtures import LECTURE_ID, seed_lecture

COMMUNE_LECTURE = "lec-xa"  # course nq-xa-a: both cells of commune A study it; 600 s


@pytest.fixture
def api(settings, sqlite_factory):  # type: ignore[no-untyped-def]
    """The API on the small province, a ready lecture for cell A1 and one for commune A, and a plain cellmate."""
    client, seeded = seeded_client(settings, sqlite_factory)
    seed_lecture(sqlite_factory)
    seed_lecture(sqlite_factory, COMMUNE_LECTURE, course_id="nq-xa-a")
    with transaction(sqlite_factory) as session:
        cell = session.scalars(select(OrgUnitRow).where(OrgUnitRow.code == "cb-a1")).one()
        session.add(MemberRow(card_number="A1004", full_name="Đỗ Văn Khánh", org_unit=cell, active=True))
    client.app.state.context.identity.tokens["token-cellmate"] = "a1004"
    client.factory = sqlite_factory
    return client


def post(client, path: str, role: str, body: dict):  # type: ignore[no-untyped-def]
    return client.post(PREFIX + path, json=body, headers=auth(role))


def get(client, path: str, role: str, **params: object):  # type: ignore[no-untyped-def]
    return client.get(PREFIX + path, params=params, headers=auth(role))


def seen(client, role: str, lecture: str = COMMUNE_LECTURE) -> list[dict]:  # type: ignore[no-untyped-def]
    response = get(client, f"/api/lectures/{lecture}/questions", role)
    assert response.status_code == 200, response.text
    return response.json()


def rows(client) -> int:  # type: ignore[no-untyped-def]
    with client.factory() as session:
        return session.scalar(select(func.count()).select_from(LectureQuestionRow)) or 0


def test_question_round_trip_with_cell_scoping(api) -> None:  # type: ignore[no-untyped-def]
    """Member asks at 12.5 s → trainer's inbox → answered for the cell → a cellmate sees it at 12.5 s, another
    cell does not → published to all → the other cell sees it."""
    asked = post(
        api, f"/api/lectures/{COMMUNE_LECTURE}/questions", "member", {"moment": 12.5, "text": " Xin hỏi điểm mới? "}
    )
    assert asked.status_code == 201, asked.text
    question = asked.json()
    assert (question["moment"], question["moment_label"], question["text"], question["mine"]) == (
        12.5,
        "00:12",
        "Xin hỏi điểm mới?",
        True,
    )
    assert [q["id"] for q in seen(api, "cellmate")] == [] and seen(api, "other_cell") == []  # not answered yet

    inbox = get(api, "/api/questions/inbox", "trainer").json()
    assert [(q["id"], q["unit_name"], q["asker"], q["answered"]) for q in inbox] == [
        (question["id"], "Chi bộ thôn A1", None, False)
    ]  # the trainer sees the cell, not the name
    answered = post(
        api, f"/api/questions/{question['id']}/answer", "trainer", {"text": "Có ba điểm mới.", "scope": "cell"}
    )
    assert answered.status_code == 200 and answered.json()["answered_by_name"] == "Đặng Văn Hải"
    assert get(api, "/api/questions/inbox", "trainer").json() == []  # unanswered only, by default
    assert len(get(api, "/api/questions/inbox", "trainer", state="all").json()) == 1

    cellmate = seen(api, "cellmate")
    assert [(q["moment"], q["answer"], q["mine"], q["asker"]) for q in cellmate] == [
        (12.5, "Có ba điểm mới.", False, None)
    ]
    assert seen(api, "other_cell") == []

    published = post(
        api, f"/api/questions/{question['id']}/answer", "trainer", {"text": "Có ba điểm mới.", "scope": "all"}
    )
    assert published.status_code == 200 and published.json()["scope"] == "all"
    other = seen(api, "other_cell")
    assert [(q["answer"], q["unit_name"], q["asker"]) for q in other] == [("Có ba điểm mới.", "Chi bộ thôn A1", None)]


def test_questions_are_listed_by_moment_with_ones_own_unanswered(api) -> None:  # type: ignore[no-untyped-def]
    """Does a member see their own unanswered questions, sorted by moment, and not a cellmate's unanswered one?"""
    for role, moment in (("member", 300), ("member", 12.5), ("cellmate", 100)):
        assert (
            post(
                api, f"/api/lectures/{COMMUNE_LECTURE}/questions", role, {"moment": moment, "text": "Câu hỏi?"}
            ).status_code
            == 201
        )
    assert [q["moment"] for q in seen(api, "member")] == [12.5, 300]
    assert [q["moment"] for q in seen(api, "secretary")] == [12.5, 100, 300]  # the cell's secretary sees all three
    assert {q["asker"] for q in seen(api, "secretary")} == {"a1001", "a1004"}


@pytest.mark.parametrize(
    ("role", "lecture", "body", "status", "message"),
    [
        ("member", COMMUNE_LECTURE, {"moment": 12.5, "text": "   "}, 422, t("questions.text_too_short", min=3)),
        (
            "member",
            COMMUNE_LECTURE,
            {"moment": 12.5, "text": "x" * 1001},
            422,
            t("questions.text_too_long", max=1000, length=1001),
        ),
        (
            "member",
            COMMUNE_LECTURE,
            {"moment": 601, "text": "Câu hỏi?"},
            422,
            t("questions.moment_outside", duration=600),
        ),
        (
            "member",
            COMMUNE_LECTURE,
            {"moment": -1, "text": "Câu hỏi?"},
            422,
            t("questions.moment_outside", duration=600),
        ),
        ("other_cell", LECTURE_ID, {"moment": 12.5, "text": "Câu hỏi?"}, 404, t("media.lecture_not_found")),
        ("member", "khong-co", {"moment": 12.5, "text": "Câu hỏi?"}, 404, t("media.lecture_not_found")),
    ],
)
def test_bad_questions_are_refused_in_vietnamese(api, role, lecture, body, status, message) -> None:  # type: ignore[no-untyped-def]
    """Are an empty, a too long, an out-of-lecture question and one on an invisible lecture refused, nothing written?"""
    response = post(api, f"/api/lectures/{lecture}/questions", role, body)
    assert (response.status_code, response.json()["detail"]) == (status, message)
    assert rows(api) == 0


def test_only_trainers_of_the_course_answer(api) -> None:  # type: ignore[no-untyped-def]
    """Is a member's or secretary's answer refused in Vietnamese, an empty or badly scoped one too, nothing written?"""
    qid = post(api, f"/api/lectures/{COMMUNE_LECTURE}/questions", "member", {"moment": 5, "text": "Câu hỏi?"}).json()[
        "id"
    ]
    for role in ("member", "secretary", "committee"):
        refused = post(api, f"/api/questions/{qid}/answer", role, {"text": "Tôi trả lời.", "scope": "all"})
        assert (refused.status_code, refused.json()["detail"]) == (403, t("questions.trainers_only"))
    hidden = post(api, f"/api/questions/{qid}/answer", "member_b", {"text": "x", "scope": "all"})
    assert (hidden.status_code, hidden.json()["detail"]) == (404, t("questions.not_found"))
    for body, message in (
        ({"text": "  ", "scope": "cell"}, t("questions.answer_empty")),
        ({"text": "Được.", "scope": "xa"}, t("questions.bad_scope")),
    ):
        bad = post(api, f"/api/questions/{qid}/answer", "trainer", body)
        assert (bad.status_code, bad.json()["detail"]) == (422, message)
    assert post(api, "/api/questions/999/answer", "trainer", {"text": "x"}).status_code == 404
    with api.factory() as session:
        assert session.scalar(select(LectureQuestionRow.answered_at)) is None


def test_secretaries_and_committees_list_unanswered_by_age(api) -> None:  # type: ignore[no-untyped-def]
    """Oldest first with age in days; the secretary their cell, the committee its commune, nobody outside scope."""
    first = post(api, f"/api/lectures/{COMMUNE_LECTURE}/questions", "member", {"moment": 5, "text": "Câu một?"}).json()
    second = post(
        api, f"/api/lectures/{COMMUNE_LECTURE}/questions", "other_cell", {"moment": 9, "text": "Câu hai?"}
    ).json()
    third = post(api, f"/api/lectures/{COMMUNE_LECTURE}/questions", "cellmate", {"moment": 7, "text": "Câu ba?"}).json()
    post(api, f"/api/questions/{third['id']}/answer", "trainer", {"text": "Đã trả lời.", "scope": "cell"})
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with transaction(api.factory) as session:
        for qid, days in ((first["id"], 6), (second["id"], 9)):
            session.execute(
                update(LectureQuestionRow)
                .where(LectureQuestionRow.id == qid)
                .values(created_at=now - dt.timedelta(days=days, hours=1))
            )
    committee = get(api, "/api/org-units/xa-a/questions/unanswered", "committee").json()
    assert [(q["id"], q["age_days"], q["unit_name"]) for q in committee] == [
        (second["id"], 9, "Chi bộ thôn A2"),
        (first["id"], 6, "Chi bộ thôn A1"),
    ]
    assert committee[1]["asker_name"] == "Nguyễn Văn An"  # the committee oversees the asker
    secretary = get(api, "/api/org-units/cb-a1/questions/unanswered", "secretary").json()
    assert [q["id"] for q in secretary] == [first["id"]]
    for role, unit, status, message in (
        ("secretary", "xa-a", 404, t("questions.unknown_unit")),
        ("secretary", "khong-co", 404, t("questions.unknown_unit")),
        ("member", "cb-a1", 403, t("questions.oversight_only")),
        ("trainer", "cb-a1", 403, t("questions.oversight_only")),
    ):
        refused = get(api, f"/api/org-units/{unit}/questions/unanswered", role)
        assert (refused.status_code, refused.json()["detail"]) == (status, message)


def test_inbox_filters(api) -> None:  # type: ignore[no-untyped-def]
    """Does ``?course=`` narrow the inbox, an unknown course or state get a Vietnamese refusal, a member a 403?"""
    post(api, f"/api/lectures/{COMMUNE_LECTURE}/questions", "member", {"moment": 5, "text": "Câu xã?"})
    post(api, f"/api/lectures/{LECTURE_ID}/questions", "member", {"moment": 5, "text": "Câu chi bộ?"})
    assert [q["text"] for q in get(api, "/api/questions/inbox", "trainer", course="nq-cb-a1").json()] == ["Câu chi bộ?"]
    assert len(get(api, "/api/questions/inbox", "admin").json()) == 2
    assert get(api, "/api/questions/inbox", "trainer", course="khong-co").json()["detail"] == t("api.course_not_found")
    assert get(api, "/api/questions/inbox", "trainer", state="old").json()["detail"] == t("questions.bad_state")
    assert get(api, "/api/questions/inbox", "member").json()["detail"] == t("questions.inbox_trainers_only")


def test_analytics_count_questions_and_replays(api) -> None:  # type: ignore[no-untyped-def]
    """Does the analytics route give questions per stretch and the stretches watched again, most first?"""
    for role, moment in (("member", 12.5), ("cellmate", 14), ("other_cell", 590)):
        post(api, f"/api/lectures/{COMMUNE_LECTURE}/questions", role, {"moment": moment, "text": "Câu hỏi?"})
    events = [
        {"event_id": "a", "kind": "heartbeat", "start": 0, "end": 120, "seq": 1},
        {"event_id": "b", "kind": "seek", "start": 120, "end": 60, "seq": 2},
        {"event_id": "c", "kind": "heartbeat", "start": 60, "end": 90, "seq": 3},
        {"event_id": "d", "kind": "heartbeat", "start": 60, "end": 70, "seq": 4},
    ]
    for role in ("member", "cellmate"):
        assert post(api, f"/api/lectures/{COMMUNE_LECTURE}/progress", role, {"events": events}).status_code == 200
    post(api, f"/api/lectures/{COMMUNE_LECTURE}/progress", "member", {"events": events})  # a replayed queue: no change
    analytics = get(api, f"/api/lectures/{COMMUNE_LECTURE}/analytics", "trainer", buckets=10).json()
    assert analytics["questions"] == 3
    assert [b["questions"] for b in analytics["buckets"]] == [2, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    # 60-90 watched again by two members, 60-70 once more each: 60-70 four times, 70-90 twice, over 60-120.
    assert [b["replays"] for b in analytics["buckets"]] == [0.0, round((4 * 10 + 2 * 20) / 60, 2)] + [0.0] * 8
    assert [(r["start"], r["end"], r["times"]) for r in analytics["most_replayed"]] == [
        (60.0, 70.0, 4.0),
        (70.0, 80.0, 2.0),
        (80.0, 90.0, 2.0),
    ]


def hide(client, qid: int, role: str, hidden: bool = True, reason: str = ""):  # type: ignore[no-untyped-def]
    return post(client, f"/api/questions/{qid}/hide", role, {"hidden": hidden, "reason": reason})


def test_a_trainer_hides_a_question_and_restores_it(api) -> None:  # type: ignore[no-untyped-def]
    """Trainer hides an answered question → cellmate and other cell no longer see it, the asker sees it marked
    (without the reason), the committee's unanswered list and the inbox drop it, ``?hidden=true`` lists it →
    restored, everyone sees it again."""
    path = f"/api/lectures/{COMMUNE_LECTURE}/questions"
    qid = post(api, path, "member", {"moment": 5, "text": "Câu hỏi lạc đề?"}).json()["id"]
    waiting = post(api, path, "cellmate", {"moment": 9, "text": "Câu hỏi trùng?"}).json()["id"]
    post(api, f"/api/questions/{qid}/answer", "trainer", {"text": "Đã trả lời.", "scope": "all"})
    assert [q["id"] for q in seen(api, "cellmate")] == [qid, waiting]
    assert [q["id"] for q in seen(api, "other_cell")] == [qid]

    hidden = hide(api, qid, "trainer", reason=" Không liên quan đến bài giảng ")
    assert hidden.status_code == 200, hidden.text
    assert (hidden.json()["hidden"], hidden.json()["hidden_reason"]) == (True, "Không liên quan đến bài giảng")
    assert [q["id"] for q in seen(api, "cellmate")] == [waiting]  # their own, not the hidden one
    assert seen(api, "other_cell") == [] and [q["id"] for q in seen(api, "secretary")] == [waiting]
    mine = seen(api, "member")
    assert [(q["id"], q["hidden"], q["hidden_reason"], q["answer"]) for q in mine] == [(qid, True, None, "Đã trả lời.")]
    assert [(q["id"], q["hidden"]) for q in seen(api, "trainer")] == [(qid, True), (waiting, False)]

    # An unanswered question hidden leaves the committee's list (and so its count) and the trainer's inbox.
    assert [q["id"] for q in get(api, "/api/org-units/xa-a/questions/unanswered", "committee").json()] == [waiting]
    assert hide(api, waiting, "trainer").json()["hidden_reason"] is None  # no reason given
    assert get(api, "/api/org-units/xa-a/questions/unanswered", "committee").json() == []
    assert [(q["id"], q["hidden"]) for q in seen(api, "cellmate")] == [(waiting, True)]  # its asker still sees it
    assert get(api, "/api/org-units/cb-a1/questions/unanswered", "secretary").json() == []
    assert get(api, "/api/questions/inbox", "trainer", state="all").json() == []
    listed = get(api, "/api/questions/inbox", "trainer", state="all", hidden="true").json()
    assert [(q["id"], q["hidden"]) for q in listed] == [(waiting, True), (qid, True)]  # unanswered first
    assert get(api, f"/api/lectures/{COMMUNE_LECTURE}/analytics", "trainer", buckets=10).json()["questions"] == 0

    restored = hide(api, waiting, "trainer", hidden=False)
    assert (restored.json()["hidden"], restored.json()["hidden_reason"]) == (False, None)
    assert [q["id"] for q in get(api, "/api/org-units/xa-a/questions/unanswered", "committee").json()] == [waiting]
    assert hide(api, qid, "admin", hidden=False).status_code == 200  # admins moderate too
    assert [q["id"] for q in seen(api, "other_cell")] == [qid] and not seen(api, "member")[0]["hidden"]
    with api.factory() as session:
        still = select(LectureQuestionRow.hidden_by).where(LectureQuestionRow.hidden_at.is_not(None))
        assert session.scalars(still).all() == []


def test_only_trainers_of_the_course_hide(api) -> None:  # type: ignore[no-untyped-def]
    """Is hiding refused to the asker, the secretary and the committee (403) and to those who cannot see the
    question (404), a reason past 200 characters refused in Vietnamese — nothing written each time?"""
    asked = post(api, f"/api/lectures/{COMMUNE_LECTURE}/questions", "member", {"moment": 5, "text": "Câu hỏi?"})
    qid = asked.json()["id"]
    for role in ("member", "secretary", "committee"):
        refused = hide(api, qid, role)
        assert (refused.status_code, refused.json()["detail"]) == (403, t("questions.trainers_only"))
    for role in ("member_b", "cellmate"):  # another commune's member; a cellmate while unanswered
        refused = hide(api, qid, role)
        assert (refused.status_code, refused.json()["detail"]) == (404, t("questions.not_found"))
    long = hide(api, qid, "trainer", reason="x" * 201)
    assert (long.status_code, long.json()["detail"]) == (422, t("questions.reason_too_long", max=200))
    assert hide(api, 999, "trainer").status_code == 404
    with api.factory() as session:
        assert session.scalar(select(LectureQuestionRow.hidden_at)) is None
    assert [q["id"] for q in seen(api, "secretary")] == [qid]


# --- the client id: the player's offline queue replays a post until it hears back -------------------------

KEY = "3f1c9a2e-7b4d-4e0a-9c1f-0d2b6a8e5f17"
ASK = f"/api/lectures/{COMMUNE_LECTURE}/questions"


def test_a_replayed_post_returns_the_stored_question(api) -> None:  # type: ignore[no-untyped-def]
    """Does the same post sent twice (the answer to the first was lost) store one question, 201 then 200?"""
    body = {"moment": 30, "text": "Hỏi khi mất sóng?", "client_id": KEY}
    first, again = post(api, ASK, "member", body), post(api, ASK, "member", {**body, "text": "Hỏi lần hai?"})
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json() == first.json() and rows(api) == 1


def test_another_member_reusing_a_client_id_neither_sees_nor_overwrites(api) -> None:  # type: ignore[no-untyped-def]
    """Does a cellmate who posts with someone's client id get their own question, learn nothing of the other's,
    and leave it as it was?"""
    mine = post(api, ASK, "member", {"moment": 30, "text": "Câu hỏi riêng?", "client_id": KEY}).json()
    theirs = post(api, ASK, "cellmate", {"moment": 5, "text": "Câu hỏi chen ngang?", "client_id": KEY})
    assert theirs.status_code == 201 and theirs.json()["id"] != mine["id"]
    assert (theirs.json()["text"], theirs.json()["mine"]) == ("Câu hỏi chen ngang?", True)
    assert [q["text"] for q in seen(api, "cellmate")] == ["Câu hỏi chen ngang?"]  # not the unanswered other
    assert [q["text"] for q in seen(api, "member")] == ["Câu hỏi riêng?"] and rows(api) == 2


def test_a_client_id_reused_on_another_lecture_is_a_conflict(api) -> None:  # type: ignore[no-untyped-def]
    """Is a member's client id sent again for another lecture a 409 in Vietnamese, with nothing written?"""
    assert post(api, ASK, "member", {"moment": 30, "text": "Câu hỏi?", "client_id": KEY}).status_code == 201
    other = post(
        api, f"/api/lectures/{LECTURE_ID}/questions", "member", {"moment": 3, "text": "Khác?", "client_id": KEY}
    )
    assert (other.status_code, other.json()["detail"]) == (409, t("questions.client_id_reused")) and rows(api) == 1


@pytest.mark.parametrize(
    "key",
    ["x" * 65, "x" * 100_000, "short", "abcdefgh\r\nX-Evil: 1", "abc\x00defgh", "../../../etc/passwd", "câu-hỏi-12345"],
)
def test_hostile_client_ids_are_refused_in_vietnamese(api, key: str) -> None:  # type: ignore[no-untyped-def]
    """Are long, control-character, path-like and non-ASCII client ids a 422 with the catalogue's message?"""
    refused = post(api, ASK, "member", {"moment": 30, "text": "Câu hỏi?", "client_id": key})
    assert (refused.status_code, refused.json()["detail"]) == (422, t("questions.bad_client_id", max=64))
    assert rows(api) == 0


@pytest.mark.parametrize("key", [12345678, ["abcdefgh"], {"id": "abcdefgh"}, True])
def test_client_ids_of_the_wrong_type_are_a_4xx(api, key: object) -> None:  # type: ignore[no-untyped-def]
    """Is a client id that is not text refused at the schema (422), never a 5xx?"""
    refused = post(api, ASK, "member", {"moment": 30, "text": "Câu hỏi?", "client_id": key})
    assert refused.status_code == 422 and rows(api) == 0
