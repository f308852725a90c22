"""Quizzes through the API, end to end: real nbgrader, a real huey consumer, the database on SQLite and PostgreSQL.

The job queue follows the database as deployed (``queue_of_stack``): SQLite beside SQLite, Redis beside
PostgreSQL, so the API's enqueuing and the consumer's grading run on Redis too, at no extra cost."""

from __future__ import annotations

import datetime as dt

import pytest
from nbgrader.api import Gradebook
from sqlalchemy import func, select

from diemcau.adapters.db import accounts
from diemcau.adapters.db import quizzes as store
from diemcau.adapters.db.models_quiz import QuizSubmissionRow
from diemcau.adapters.nbgrader.course_dir import gradebook_url
from diemcau.core.roles import Role
from diemcau.i18n import t
from diemcau.jobs import quiz_tasks
from diemcau.jobs.context import install
from diemcau.quizzes.publish import release
from tests.apiclient import PREFIX, auth, runtime_of, seeded_client
from tests.queue_support import on_queue, queue_of_stack
from tests.quiz_support import (
    ALL_RIGHT,
    COURSE,
    quiz_yaml,
    running_consumer,
    sharing_database,
    wait_graded,
    write_spec,
)

QUIZ_URL = f"{PREFIX}/api/quizzes/{COURSE}/kt"
ESSAY_TEXT = "Tôi sẽ gương mẫu thực hiện Nghị quyết tại chi bộ."


@pytest.fixture
def quiz(settings, session_factory, db_url):  # type: ignore[no-untyped-def]
    """A factory for (client, settings, factory): the seeded province with the test quiz released on the given rules
    (the queue beside the database: Redis beside PostgreSQL)."""

    shared = on_queue(sharing_database(settings, session_factory), queue_of_stack(db_url))
    client, _seeded = seeded_client(shared, session_factory)
    install(shared)

    def make(quiz_id: str = "kt", **rules):  # type: ignore[no-untyped-def]
        write_spec(shared, quiz_yaml(**rules), quiz_id)
        release(shared, session_factory, COURSE, quiz_id)  # a second call releases the quiz again, new rules
        # A release from outside the API reaches it within FORM_RECHECK_SECONDS; the test does not wait for that.
        runtime_of(client).forms.forget(COURSE, quiz_id)
        return client, shared, session_factory

    return make


def submit(client, role: str, client_id: str, answers: dict, wait: float = 30, quiz_id: str = "kt", **extra):  # type: ignore[no-untyped-def]
    body = {"client_id": client_id, "answers": answers, **extra}
    url = f"{PREFIX}/api/quizzes/{COURSE}/{quiz_id}/submissions"
    return client.post(url, params={"wait": wait}, json=body, headers=auth(role))


def _rows(factory) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        return session.scalar(select(func.count()).select_from(QuizSubmissionRow))


def _gradebook_score(settings, member: str, quiz_id: str = "kt") -> float:  # type: ignore[no-untyped-def]
    with Gradebook(gradebook_url(settings, COURSE), COURSE) as gradebook:
        return gradebook.find_submission(quiz_id, member).score


def test_submit_through_the_api_and_get_the_gradebook_score(quiz) -> None:  # type: ignore[no-untyped-def]
    """Spec → release → submit → graded on the queue: is the member's score nbgrader's, with per-question feedback?"""
    client, settings, factory = quiz()
    with running_consumer(settings):
        response = submit(client, "member", "first-try-0001", {**ALL_RIGHT, "q1": "A", "bai_thu_hoach": ESSAY_TEXT})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "graded" and body["member"] == "a1001" and body["attempt"] == 1 and not body["late"]
    assert (body["score"], body["max_score"], body["passed"]) == (4.0, 10.0, None)  # the essay awaits the secretary
    feedback = {f["question"]: (f["score"], f["pending"]) for f in body["feedback"]}
    assert feedback == {
        "q1": (0, False),
        "q2": (2, False),
        "q3": (1, False),
        "q4": (1, False),
        "bai_thu_hoach": (0, True),
    }
    assert _gradebook_score(settings, "a1001") == 4.0
    mine = client.get(QUIZ_URL, headers=auth("member")).json()
    assert mine["attempts_used"] == 1 and mine["counted_score"] == 4.0 and mine["submissions"][0]["id"] == body["id"]
    assert "answer" not in str(mine["questions"]) and "Hà Nội" not in str(mine)


def test_no_one_submits_for_someone_else(quiz) -> None:  # type: ignore[no-untyped-def]
    """Is a submission naming another member refused, even from that member's secretary, with nothing stored?"""
    client, _settings, factory = quiz()
    for role in ("member", "secretary"):
        response = submit(client, role, f"for-other-{role}", ALL_RIGHT, wait=0, member="a1003")
        assert response.status_code == 403 and response.json()["detail"] == t("quiz.only_yourself")
    assert submit(client, "member", "for-myself-1", ALL_RIGHT, wait=0, member="A1001").status_code == 201
    assert _rows(factory) == 1


def test_members_outside_the_audience_cannot_submit(quiz) -> None:  # type: ignore[no-untyped-def]
    """Is a committee member who may see the course, but does not study it, refused?"""
    client, _settings, factory = quiz()
    response = submit(client, "committee", "not-enrolled-1", ALL_RIGHT, wait=0)
    assert response.status_code == 403 and response.json()["detail"] == t("quiz.not_enrolled")
    assert _rows(factory) == 0


def test_before_the_window_and_over_the_attempts(quiz) -> None:  # type: ignore[no-untyped-def]
    """Are submissions before opening and beyond the allowed attempts refused with a reason, nothing stored?"""
    client, _settings, factory = quiz(opens="2099-01-01", closes="2099-12-31")
    early = submit(client, "member", "too-early-01", ALL_RIGHT, wait=0)
    assert early.status_code == 409 and early.json()["detail"] == t("quiz.not_open")
    quiz(attempts=1)
    assert submit(client, "member", "attempt-one-1", ALL_RIGHT, wait=0).status_code == 201
    over = submit(client, "member", "attempt-two-2", ALL_RIGHT, wait=0)
    assert over.status_code == 409 and over.json()["detail"] == t("quiz.no_attempts_left", attempts=1)
    assert _rows(factory) == 1


def test_after_the_window_late_work_is_kept_and_marked(quiz) -> None:  # type: ignore[no-untyped-def]
    """Is a submission after closing stored, graded and marked late, or refused when the quiz says so?"""
    client, settings, factory = quiz(closes="2020-06-30")
    with running_consumer(settings):
        late = submit(client, "member", "late-but-ok-1", ALL_RIGHT)
    assert late.status_code == 201 and late.json()["late"] is True and late.json()["status"] == "graded"
    with Gradebook(gradebook_url(settings, COURSE), COURSE) as gradebook:
        assert gradebook.find_submission("kt", "a1001").total_seconds_late > 0
    quiz(closes="2020-06-30", late="refuse")
    refused = submit(client, "member", "late-refused-1", ALL_RIGHT, wait=0)
    assert refused.status_code == 409 and refused.json()["detail"] == t("quiz.closed")


def test_a_replayed_submission_is_the_same_submission(quiz) -> None:  # type: ignore[no-untyped-def]
    """Does sending the same client id again return the stored attempt (200), not a second one?"""
    client, settings, factory = quiz(attempts=1)
    with running_consumer(settings):
        first = submit(client, "member", "flaky-link-01", ALL_RIGHT)
        again = submit(client, "member", "flaky-link-01", {"q1": "C"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["score"] == first.json()["score"] == 5.0
    assert _rows(factory) == 1


def test_bad_answers_are_refused(quiz) -> None:  # type: ignore[no-untyped-def]
    """Are answers outside a question's options or shape refused, naming the question, with nothing stored?"""
    client, _settings, factory = quiz()
    response = submit(client, "member", "bad-answer-01", {"q1": "Z"}, wait=0)
    assert response.status_code == 422 and response.json()["detail"] == t("quiz.answer_not_option", question="q1")
    assert submit(client, "member", "bad-answer-02", {"q7": "A"}, wait=0).status_code == 422
    assert _rows(factory) == 0


def test_a_crash_between_storing_and_grading_loses_no_grade(quiz) -> None:  # type: ignore[no-untyped-def]
    """With the queued task lost (worker died) and another never queued (API died), do both get graded on restart?"""
    client, settings, factory = quiz(attempts=3)
    queued = submit(client, "member", "queued-then-lost", ALL_RIGHT, wait=0).json()
    quiz_tasks.ensure_queue(settings).flush()  # the queue lost the task
    form = store.load_form(factory, COURSE, "kt")
    never_queued, _ = store.store_submission(
        factory, "a1002", form, "stored-no-queue", {"q1": "B"}, dt.datetime.now(dt.UTC)
    )  # what the API does first; it died before enqueuing
    assert store.ungraded_ids(factory) == [queued["id"], never_queued.id]
    with running_consumer(settings):  # a worker starts: it requeues what is left ungraded
        assert wait_graded(factory, queued["id"]).score == 5.0
        assert wait_graded(factory, never_queued.id).score == 1.0
    assert _gradebook_score(settings, "a1001") == 5.0 and _gradebook_score(settings, "a1002") == 1.0


def test_the_counted_attempt_is_the_one_in_the_gradebook(quiz) -> None:  # type: ignore[no-untyped-def]
    """With 'best', does a worse later attempt leave the best in the gradebook; with 'last', the last?"""
    for counts, expected in (("best", 5.0), ("last", 1.0)):
        client, settings, factory = quiz(quiz_id=counts, counts=counts, essay=False)
        with running_consumer(settings):
            assert submit(client, "member", "attempt-good-1", ALL_RIGHT, quiz_id=counts).json()["score"] == 5.0
            assert submit(client, "member", "attempt-poor-2", {"q3": "true"}, quiz_id=counts).json()["score"] == 1.0
        assert _gradebook_score(settings, "a1001", counts) == expected
        mine = client.get(f"{PREFIX}/api/quizzes/{COURSE}/{counts}", headers=auth("member")).json()
        assert mine["counted_score"] == expected


def test_essays_are_graded_by_the_members_own_secretary(quiz) -> None:  # type: ignore[no-untyped-def]
    """Does only the cell's secretary grade its members' essays, and does the member get the grade and comment?"""
    client, settings, factory = quiz()
    accounts.grant_role(factory, "b1001", Role.SECRETARY, "cb-b1")  # a secretary of another cell
    client.app.state.context.identity.tokens["token-other-secretary"] = "b1001"
    with running_consumer(settings):
        sent = submit(client, "member", "with-essay-01", {**ALL_RIGHT, "bai_thu_hoach": ESSAY_TEXT}).json()
    url = f"{PREFIX}/api/quiz-submissions/{sent['id']}/essay-grade"
    grade = {"category": "Tốt", "comment": "Bài viết sát thực tế chi bộ."}
    assert client.post(url, json=grade, headers=auth("other-secretary")).status_code == 404
    assert client.post(url, json=grade, headers=auth("committee")).status_code == 403
    assert client.post(url, json=grade, headers=auth("member")).status_code == 403
    unknown = client.post(url, json={"category": "Giỏi"}, headers=auth("secretary"))
    assert unknown.status_code == 422 and "Xuất sắc" in unknown.json()["detail"]
    ungraded = client.get(f"{PREFIX}/quizzes/{COURSE}/kt/grading", headers=auth("secretary", Accept="text/html"))
    # no grade is proposed: the secretary chooses one (it defaulted to the first, *Xuất sắc*)
    assert f'<option value="" disabled selected>{t("quiz.choose_grade")}</option>' in ungraded.text
    assert "<option selected>" not in ungraded.text
    graded = client.post(url, json=grade, headers=auth("secretary"))
    assert graded.status_code == 200, graded.text
    assert (graded.json()["score"], graded.json()["passed"]) == (5.0 + 4.0, True)  # "Tốt" is 80% of 5 points
    seen = client.get(f"{PREFIX}/api/quiz-submissions/{sent['id']}", headers=auth("member")).json()
    assert seen["essay_category"] == "Tốt" and seen["essay_comment"] == grade["comment"]
    with Gradebook(gradebook_url(settings, COURSE), COURSE) as gradebook:
        essay = gradebook.find_grade("bai_thu_hoach", "kt", "kt", "a1001")
        assert (essay.manual_score, essay.needs_manual_grade) == (4.0, False)
        assert gradebook.find_comment("bai_thu_hoach", "kt", "kt", "a1001").manual_comment == grade["comment"]
        assert gradebook.find_submission("kt", "a1001").score == 9.0
    page = client.get(f"{PREFIX}/quizzes/{COURSE}/kt/grading", headers=auth("other-secretary", Accept="text/html"))
    assert page.status_code == 404 and "a1001" not in page.text  # another cell's course: not even visible
    page = client.get(f"{PREFIX}/quizzes/{COURSE}/kt/grading", headers=auth("secretary", Accept="text/html"))
    assert ESSAY_TEXT in page.text and "Nguyễn Văn An" in page.text


def test_only_the_counted_attempt_is_graded(quiz) -> None:  # type: ignore[no-untyped-def]
    """Is grading the essay of an attempt that no longer counts refused?"""
    client, settings, factory = quiz()
    with running_consumer(settings):
        first = submit(client, "member", "essay-first-1", {"bai_thu_hoach": "Bản đầu."}).json()
        submit(client, "member", "essay-second-2", {"bai_thu_hoach": "Bản sau."})
    response = client.post(
        f"{PREFIX}/api/quiz-submissions/{first['id']}/essay-grade", json={"category": "Đạt"}, headers=auth("secretary")
    )
    assert response.status_code == 409 and response.json()["detail"] == t("quiz.not_counted_attempt")


def test_drafts_survive_a_lost_connection(quiz) -> None:  # type: ignore[no-untyped-def]
    """Does a saved draft come back with the quiz, for its member only?"""
    client, _settings, _factory = quiz()
    assert client.put(f"{QUIZ_URL}/draft", json={"answers": {"q1": "B"}}, headers=auth("member")).status_code == 204
    assert client.get(QUIZ_URL, headers=auth("member")).json()["draft"] == {"q1": "B"}
    assert client.get(QUIZ_URL, headers=auth("secretary")).json()["draft"] == {}


def test_a_submission_spends_the_draft(quiz) -> None:  # type: ignore[no-untyped-def]
    """After a member submits, does the next attempt start from an empty form (it came back filled with the
    answers just sent, ready to be sent again)?"""
    client, settings, _factory = quiz()
    assert client.put(f"{QUIZ_URL}/draft", json={"answers": {"q1": "B"}}, headers=auth("member")).status_code == 204
    with running_consumer(settings):
        assert submit(client, "member", "spends-draft-01", ALL_RIGHT).status_code in (200, 201, 202)
    assert client.get(QUIZ_URL, headers=auth("member")).json()["draft"] == {}


def test_the_quiz_page_shows_the_form_and_no_key(quiz) -> None:  # type: ignore[no-untyped-def]
    """Is the member's quiz page a light HTML form in Vietnamese, without any answer key?"""
    client, _settings, _factory = quiz()
    page = client.get(f"{PREFIX}/quizzes/{COURSE}/kt", headers=auth("member", Accept="text/html"))
    assert page.status_code == 200 and "Câu một?" in page.text and t("quiz.submit") in page.text
    assert "Hà Nội" not in page.text and len(page.content) < 20_000
    listing = client.get(f"{PREFIX}/quizzes/{COURSE}", headers=auth("member", Accept="text/html"))
    assert "Kiểm tra chuyên đề chi bộ" in listing.text
    missing = client.get(f"{PREFIX}/quizzes/{COURSE}/none", headers=auth("member", Accept="text/html"))
    assert missing.status_code == 404 and t("quiz.not_found") in missing.text


def test_the_quiz_list_says_which_quizzes_the_caller_may_take_now(quiz) -> None:  # type: ignore[no-untyped-def]
    """Does ``can_take`` (what a device stores for offline study) follow the submission rules: open and enrolled
    yes; not a committee member outside the audience, not before opening, not once the window closed (late work
    refused), not with no attempt left, and late work accepted yes?"""
    client, _settings, _factory = quiz(attempts=1)
    listed = f"{PREFIX}/api/quizzes/{COURSE}"

    def can_take(role: str = "member") -> bool:
        response = client.get(listed, headers=auth(role))
        assert response.status_code == 200, response.text
        return {q["quiz_id"]: q["can_take"] for q in response.json()}["kt"]

    assert can_take() is True and can_take("committee") is False
    assert client.get(QUIZ_URL, headers=auth("member")).json()["can_take"] is True
    quiz(attempts=1, opens="2099-01-01", closes="2099-12-31")
    assert can_take() is False
    quiz(attempts=1, closes="2020-06-30", late="refuse")
    assert can_take() is False and client.get(QUIZ_URL, headers=auth("member")).json()["can_take"] is False
    quiz(attempts=1, closes="2020-06-30", late="accept")
    assert can_take() is True
    assert submit(client, "member", "the-only-one-1", ALL_RIGHT, wait=0).status_code == 201
    assert can_take() is False


def test_a_closed_quiz_page_still_shows_an_attempt_kept_offline(quiz) -> None:  # type: ignore[no-untyped-def]
    """Once the window has closed the form is gone: does the page still carry the box where quiz.js shows an
    attempt answered offline and refused (this member's own key, the API to send it to, the Vietnamese texts)?"""
    client, _settings, _factory = quiz(closes="2020-06-30", late="refuse")
    page = client.get(f"{PREFIX}/quizzes/{COURSE}/kt", headers=auth("member", Accept="text/html")).text
    assert 'id="quiz"' not in page and t("quiz.closed") in page
    assert f'id="quiz-kept" hidden data-prefix="diemcau:a1001:{COURSE}/kt:"' in page
    assert f'data-quizzes="{PREFIX}/api/quizzes/"' in page and t("quiz.kept_remove") in page
    assert t("quiz.kept_refused") in page and "/static/quiz" in page
