"""The questions and replays stores on SQLite and PostgreSQL: writes, refusals that write nothing, scoped reads."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import questions as store
from diemcau.adapters.db.models_questions import LectureQuestionRow
from diemcau.adapters.db.progress import record_events
from diemcau.adapters.db.replays import load_replays, rebuild_replays
from diemcau.core.progress import EventKind, ProgressEvent
from diemcau.core.questions import QuestionError, Scope, can_see_question
from diemcau.core.roles import Grant, Role, Viewer
from tests.seed import seed_small_province
from tests.transcript_fixtures import LECTURE_ID, seed_lecture

A1, A2 = "/tinh/xa-a/cb-a1/", "/tinh/xa-a/cb-a2/"
AUDIENCE = ("/tinh/xa-a/cb-a1/",)
T0 = dt.datetime(2026, 3, 1, 8, 0)


@pytest.fixture
def factory(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    seed_small_province(session_factory)
    seed_lecture(session_factory)  # 600 s, course nq-cb-a1
    return session_factory


def on_the_lecture(asker: str, path: str, moment: float, text: str, **more: object) -> dict:
    """A question's keywords for ``store.ask`` / ``ask_once`` on the seeded lecture (600 s, course nq-cb-a1)."""
    return dict(
        lecture_id=LECTURE_ID,
        course_id="nq-cb-a1",
        duration=600.0,
        asker=asker,
        asker_path=path,
        moment=moment,
        text=text,
        **more,
    )


def ask(
    factory: sessionmaker[Session], asker: str, path: str, moment: float, days_ago: int = 0, text: str = "Câu hỏi?"
):
    return store.ask(factory, **on_the_lecture(asker, path, moment, text, now=T0 - dt.timedelta(days=days_ago)))


def count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(LectureQuestionRow)) or 0


def test_ask_stores_the_cleaned_question(factory) -> None:  # type: ignore[no-untyped-def]
    """Is a question stored stripped, at its moment, unanswered, for the cell, and read back the same?"""
    asked = ask(factory, "a1001", A1, 12.5, text="  Nghị quyết có gì mới?  ")
    assert (asked.text, asked.moment, asked.answered, asked.scope) == ("Nghị quyết có gì mới?", 12.5, False, Scope.CELL)
    assert store.load_question(factory, asked.id) == asked


@pytest.mark.parametrize(
    ("moment", "text", "code"),
    [
        (12.5, "  ", "text_too_short"),
        (12.5, "x" * 1001, "text_too_long"),
        (600.1, "Hỏi gì?", "moment_outside"),
        (-2, "Hỏi gì?", "moment_outside"),
    ],
)
def test_bad_questions_write_nothing(factory, moment: float, text: str, code: str) -> None:  # type: ignore[no-untyped-def]
    """Are empty, too long and out-of-lecture questions refused with their code and no row written?"""
    with pytest.raises(QuestionError) as refused:
        ask(factory, "a1001", A1, moment, text=text)
    assert refused.value.code == code and count(factory) == 0


def test_answer_and_publish(factory) -> None:  # type: ignore[no-untyped-def]
    """Does an answer for the cell, then one published to all, replace the first; an empty one change nothing?"""
    asked = ask(factory, "a1001", A1, 12.5)
    first = store.answer(factory, asked.id, text="Có ba điểm mới.", scope=Scope.CELL, by="b1002", now=T0)
    assert first is not None and (first.answer, first.scope, first.answered_by) == (
        "Có ba điểm mới.",
        Scope.CELL,
        "b1002",
    )
    with pytest.raises(QuestionError):
        store.answer(factory, asked.id, text=" ", scope=Scope.ALL, by="b1002")
    assert store.load_question(factory, asked.id) == first
    published = store.answer(factory, asked.id, text="Có ba điểm mới.", scope=Scope.ALL, by="b1002")
    assert published is not None and published.scope == Scope.ALL
    assert store.answer(factory, 999, text="x", scope=Scope.ALL, by="b1002") is None


def test_lecture_reads_agree_with_the_rule(factory) -> None:  # type: ignore[no-untyped-def]
    """For each viewer, does the SQL prefilter keep every question the pure rule lets them see?"""
    mine = ask(factory, "a1001", A1, 10)
    cellmates = ask(factory, "a1002", A1, 20)
    other = ask(factory, "a2001", A2, 30)
    store.answer(factory, cellmates.id, text="Trả lời chi bộ.", scope=Scope.CELL, by="b1002")
    store.answer(factory, other.id, text="Trả lời chung.", scope=Scope.ALL, by="b1002")
    viewers = [
        Viewer("a1001", A1),
        Viewer("a2009", A2),
        Viewer("a1002", A1, (Grant(Role.SECRETARY, A1),)),
        Viewer("a2002", A2, (Grant(Role.COMMITTEE, "/tinh/xa-a/"),)),
        Viewer("b1002", "/tinh/xa-b/cb-b1/", (Grant(Role.TRAINER, None),)),
    ]
    everything = store.questions_of_lecture(factory, LECTURE_ID, viewers[-1], AUDIENCE)
    assert [q.id for q in everything] == [mine.id, cellmates.id, other.id]
    for viewer in viewers:
        expected = [q.id for q in everything if can_see_question(viewer, q, AUDIENCE)]
        got = [
            q.id
            for q in store.questions_of_lecture(factory, LECTURE_ID, viewer, AUDIENCE)
            if can_see_question(viewer, q, AUDIENCE)
        ]
        assert got == expected, viewer.username
    member_sees = store.questions_of_lecture(factory, LECTURE_ID, viewers[0], AUDIENCE)
    assert {q.id for q in member_sees} == {mine.id, cellmates.id, other.id}
    outsider = store.questions_of_lecture(factory, LECTURE_ID, viewers[1], AUDIENCE)
    assert {q.id for q in outsider} == {other.id}


def test_inbox_and_unanswered_under_a_subtree(factory) -> None:  # type: ignore[no-untyped-def]
    """Unanswered first and oldest first in the inbox; a subtree's unanswered ones only, by prefix, oldest first."""
    old = ask(factory, "a1001", A1, 10, days_ago=9)
    new = ask(factory, "a2001", A2, 20, days_ago=1)
    done = ask(factory, "a1002", A1, 30, days_ago=20)
    store.answer(factory, done.id, text="Đã trả lời.", scope=Scope.CELL, by="b1002")
    assert [q.id for q in store.inbox(factory, ["nq-cb-a1"], unanswered_only=False)] == [old.id, new.id, done.id]
    assert [q.id for q in store.inbox(factory, ["nq-cb-a1"], unanswered_only=True)] == [old.id, new.id]
    assert store.inbox(factory, ["nq-tinh"], unanswered_only=False) == []
    assert [q.id for q in store.unanswered_under(factory, "/tinh/xa-a/")] == [old.id, new.id]
    assert [q.id for q in store.unanswered_under(factory, A2)] == [new.id]
    assert store.unanswered_under(factory, "/tinh/xa-a/cb-a%/") == []  # a prefix, not a pattern
    labels = store.labels(factory, [old, new])
    assert labels.units == {A1: "Chi bộ thôn A1", A2: "Chi bộ thôn A2"} and labels.names["a1001"] == "Nguyễn Văn An"
    assert labels.lectures == {LECTURE_ID: "Bài giảng 1"}
    assert store.moments_of(factory, LECTURE_ID) == [10, 20, 30]


def test_a_hidden_question_leaves_the_reads_of_others(factory) -> None:  # type: ignore[no-untyped-def]
    """Hidden with a reason: does it stay for its asker and the trainers, leave cellmates', the secretary's, the
    committee's and the analytics' reads, show in the inbox's hidden list only — and come back when restored?"""
    answered = ask(factory, "a1001", A1, 10)
    store.answer(factory, answered.id, text="Trả lời chung.", scope=Scope.ALL, by="b1002")
    waiting = ask(factory, "a1002", A1, 20, days_ago=3)
    for question in (answered, waiting):
        hidden = store.hide(factory, question.id, hidden=True, reason="  Trùng lặp ", by="b1002", now=T0)
        assert hidden is not None and hidden.hidden
        assert (hidden.hidden_at, hidden.hidden_by, hidden.hidden_reason) == (T0, "b1002", "Trùng lặp")
        assert store.load_question(factory, question.id) == hidden  # read back the same from the database
    trainer = Viewer("b1002", "/tinh/xa-b/cb-b1/", (Grant(Role.TRAINER, None),))
    cellmate, secretary = Viewer("a1004", A1), Viewer("a1003", A1, (Grant(Role.SECRETARY, A1),))
    committee = Viewer("a2002", A2, (Grant(Role.COMMITTEE, "/tinh/xa-a/"),))

    def reads(viewer: Viewer) -> list[int]:
        return [
            q.id
            for q in store.questions_of_lecture(factory, LECTURE_ID, viewer, AUDIENCE)
            if can_see_question(viewer, q, AUDIENCE)
        ]

    assert reads(trainer) == [answered.id, waiting.id] and reads(Viewer("a1001", A1)) == [answered.id]
    assert reads(cellmate) == [] and reads(secretary) == [] and reads(committee) == []
    assert store.questions_of_lecture(factory, LECTURE_ID, committee, AUDIENCE) == []  # the SQL leaves them out too
    assert store.unanswered_under(factory, "/tinh/xa-a/") == [] and store.moments_of(factory, LECTURE_ID) == []
    assert store.inbox(factory, ["nq-cb-a1"], unanswered_only=False) == []
    hidden_inbox = store.inbox(factory, ["nq-cb-a1"], unanswered_only=False, hidden=True)
    assert [q.id for q in hidden_inbox] == [waiting.id, answered.id]  # unanswered first
    with pytest.raises(QuestionError):
        store.hide(factory, waiting.id, hidden=True, reason="x" * 201, by="b1002")
    assert store.load_question(factory, waiting.id).hidden_reason == "Trùng lặp"  # the refusal wrote nothing

    restored = store.hide(factory, waiting.id, hidden=False, reason="ignored", by="b1003")
    assert restored is not None and not restored.hidden
    assert (restored.hidden_by, restored.hidden_reason) == (None, None)
    assert [q.id for q in store.unanswered_under(factory, "/tinh/xa-a/")] == [waiting.id]
    assert reads(secretary) == [waiting.id] and store.moments_of(factory, LECTURE_ID) == [20]
    assert store.hide(factory, 999, hidden=True, reason=None, by="b1002") is None


def play(factory: sessionmaker[Session], member: str, *spans: tuple[str, float, float, int]) -> None:
    events = [ProgressEvent(eid, EventKind.HEARTBEAT, start, end, seq) for eid, start, end, seq in spans]
    record_events(factory, member, LECTURE_ID, 600.0, events)


def test_replays_are_counted_at_ingest_in_one_statement(factory) -> None:  # type: ignore[no-untyped-def]
    """Are stretches watched again counted once per batch with one UPSERT, replays of a batch ignored, and does
    a rebuild from the raw events give the same counter?"""
    engine = factory.kw["bind"]
    upserts: list[str] = []

    def spy(_conn, _cursor, statement: str, *_args: object) -> None:
        if "lecture_replay_buckets" in statement and statement.lstrip().upper().startswith("INSERT"):
            upserts.append(statement)

    event.listen(engine, "before_cursor_execute", spy)
    try:
        play(factory, "a1001", ("e1", 0, 60, 1))
        assert load_replays(factory, LECTURE_ID) == {} and upserts == []  # a first watch replays nothing
        play(factory, "a1001", ("e2", 20, 45, 2), ("e3", 40, 50, 3))  # back to 0:20, then once more 0:40-0:50
        assert len(upserts) == 1
        play(factory, "a1001", ("e2", 20, 45, 2))  # the same queue sent again
        play(factory, "a1002", ("f1", 0, 30, 1), ("f2", 25, 35, 2))
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    counted = load_replays(factory, LECTURE_ID)
    assert counted == {2: 15.0, 3: 10.0, 4: 15.0} and len(upserts) == 2  # 20-45 + 40-50 by a1001, 25-30 by a1002
    assert rebuild_replays(factory, LECTURE_ID, 600.0) == counted and load_replays(factory, LECTURE_ID) == counted


# --- a question's client id: the player's offline queue may post the same question more than once ----------

KEY = "3f1c9a2e-7b4d-4e0a-9c1f-0d2b6a8e5f17"


def ask_keyed(factory, asker: str, path: str, key: str | None, text: str = "Câu hỏi khi không có mạng?"):  # type: ignore[no-untyped-def]
    return store.ask_once(factory, **on_the_lecture(asker, path, 42.0, text, client_id=key))


def test_a_replay_with_the_same_client_id_stores_nothing(factory) -> None:  # type: ignore[no-untyped-def]
    """Does a second post with the same client id (even with other text) return the first question, unchanged?"""
    first, created = ask_keyed(factory, "a1001", A1, KEY)
    again, created_again = ask_keyed(factory, "a1001", A1, KEY, text="Sửa lại câu hỏi?")
    assert (created, created_again) == (True, False)
    assert again == first and again.text == "Câu hỏi khi không có mạng?" and count(factory) == 1


def test_questions_without_a_client_id_never_collide(factory) -> None:  # type: ignore[no-untyped-def]
    """Do old clients (no client id) still store every post (NULLs are distinct on both backends)?"""
    assert [ask_keyed(factory, "a1001", A1, None)[1] for _ in range(2)] == [True, True] and count(factory) == 2


def test_another_members_same_client_id_is_their_own_question(factory) -> None:  # type: ignore[no-untyped-def]
    """Does a member who reuses someone else's client id get a question of their own, never the other's?"""
    mine, _ = ask_keyed(factory, "a1001", A1, KEY)
    theirs, created = ask_keyed(factory, "a2001", A2, KEY, text="Câu hỏi của người khác?")
    assert created and theirs.id != mine.id and (theirs.asker, theirs.text) == ("a2001", "Câu hỏi của người khác?")
    assert store.load_question(factory, mine.id) == mine and count(factory) == 2


@pytest.mark.parametrize(
    "key", ["x" * 65, "short", "", "abcdefgh\n", "abc\x00defgh", "../../etc/passwd", "câu-hỏi-12345", "\u202eabcdefgh"]
)
def test_hostile_client_ids_write_nothing(factory, key: str) -> None:  # type: ignore[no-untyped-def]
    """Are overlong, short, control-character, path-like and non-ASCII ids refused before any write?"""
    with pytest.raises(QuestionError) as refused:
        ask_keyed(factory, "a1001", A1, key)
    assert refused.value.code == "bad_client_id" and count(factory) == 0


def test_concurrent_replays_store_one_question(factory) -> None:  # type: ignore[no-untyped-def]
    """Do eight replays of one question at once (a queue flushed by two tabs) store it exactly once?"""
    start = threading.Barrier(8)

    def replay(_: int) -> tuple[int, bool]:
        start.wait()
        question, created = ask_keyed(factory, "a1001", A1, KEY)
        return question.id, created

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(replay, range(8)))
    assert len({question_id for question_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1 and count(factory) == 1


# PostgreSQL only: SQLite takes the write lock before the lookup, so there is no window to race in.
@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_replay_that_loses_the_race_reads_the_winner(factory, db_url: str) -> None:  # type: ignore[no-untyped-def]
    """When a concurrent replay commits between the lookup and the insert (PostgreSQL: no write lock up front),
    does the loser's unique-key failure return the winner's question instead of an error?"""
    engine, raced = factory.kw["bind"], []

    def winner_commits_first(session, flush_context, instances) -> None:  # type: ignore[no-untyped-def]
        if raced:
            return
        raced.append(True)
        with engine.begin() as other:  # the concurrent replay, on its own connection
            other.execute(
                LectureQuestionRow.__table__.insert().values(
                    lecture_id=LECTURE_ID,
                    course_id="nq-cb-a1",
                    asker="a1001",
                    asker_path=A1,
                    moment=42.0,
                    text="Câu hỏi của lần gửi kia?",
                    scope="cell",
                    client_id=KEY,
                )
            )

    event.listen(Session, "before_flush", winner_commits_first)
    try:
        question, created = ask_keyed(factory, "a1001", A1, KEY)
    finally:
        event.remove(Session, "before_flush", winner_commits_first)
    assert raced and not created and question.text == "Câu hỏi của lần gửi kia?" and count(factory) == 1
