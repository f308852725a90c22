"""The pure rules of questions and replays: validation, who sees which question, ordering, buckets."""

from __future__ import annotations

import datetime as dt

import pytest

from diemcau.core.progress import EventKind, ProgressEvent
from diemcau.core.questions import (
    Question,
    QuestionError,
    Scope,
    by_moment,
    can_see_question,
    check_moment,
    clean_answer,
    clean_reason,
    clean_text,
    counts_by_bucket,
    hidden_from,
    inbox_order,
    is_course_trainer,
    may_moderate,
    may_see_asker,
    unanswered_by_age,
)
from diemcau.core.replays import most_replayed, rebucket, replayed_spans, seconds_by_bucket
from diemcau.core.roles import Grant, Role, Viewer

A1, A2, B1 = "/tinh/xa-a/cb-a1/", "/tinh/xa-a/cb-a2/", "/tinh/xa-b/cb-b1/"
AUDIENCE = ("/tinh/xa-a/",)  # a commune course
T0 = dt.datetime(2026, 3, 1, 8, 0)

member = Viewer("a1001", A1)
cellmate = Viewer("a1004", A1)
other_cell = Viewer("a2001", A2)
secretary = Viewer("a1002", A1, (Grant(Role.SECRETARY, A1),))
other_secretary = Viewer("b1009", B1, (Grant(Role.SECRETARY, B1),))
committee = Viewer("a2002", A2, (Grant(Role.COMMITTEE, "/tinh/xa-a/"),))
trainer = Viewer("b1002", B1, (Grant(Role.TRAINER, None),))
commune_trainer = Viewer("a2003", A2, (Grant(Role.TRAINER, "/tinh/xa-a/"),))
far_trainer = Viewer("b1005", B1, (Grant(Role.TRAINER, "/tinh/xa-b/"),))
admin = Viewer("b1003", B1, (Grant(Role.ADMIN, None),))


def question(**changes: object) -> Question:
    base = dict(
        id=1,
        lecture_id="l1",
        course_id="c1",
        asker="a1001",
        asker_path=A1,
        moment=12.5,
        text="Xin hỏi về điểm mới?",
        created_at=T0,
    )
    return Question(**{**base, **changes})  # type: ignore[arg-type]


def answered(scope: Scope = Scope.CELL, **changes: object) -> Question:
    return question(
        answer="Trả lời.", answered_by="b1002", answered_at=T0 + dt.timedelta(days=1), scope=scope, **changes
    )


def sees(viewer: Viewer, q: Question) -> bool:
    return can_see_question(viewer, q, AUDIENCE)


def test_text_is_stripped_and_bounded() -> None:
    """Is text stripped, and are fewer than 3 or more than 1000 characters refused with their own codes?"""
    assert clean_text("  Vì sao?  ") == "Vì sao?"
    assert clean_text("x" * 1000) == "x" * 1000
    for bad, code in (("", "text_too_short"), ("  ab  ", "text_too_short"), ("x" * 1001, "text_too_long")):
        with pytest.raises(QuestionError) as refused:
            clean_text(bad)
        assert refused.value.code == code


def test_moment_must_lie_within_the_lecture() -> None:
    """Are moments from 0 to the duration kept, and negative, past-the-end, NaN or unknown durations refused?"""
    assert check_moment(0, 600) == 0.0 and check_moment(600, 600) == 600.0 and check_moment(12.5, 600) == 12.5
    for moment, duration, code in (
        (-1, 600, "moment_outside"),
        (600.5, 600, "moment_outside"),
        (float("nan"), 600, "moment_outside"),
        (1, None, "not_playable"),
    ):
        with pytest.raises(QuestionError) as refused:
            check_moment(moment, duration)
        assert refused.value.code == code


def test_answer_must_not_be_empty() -> None:
    """Is a blank answer refused, and a long one bounded?"""
    assert clean_answer(" Đúng vậy. ") == "Đúng vậy."
    for bad, code in (("   ", "answer_empty"), ("x" * 5001, "answer_too_long")):
        with pytest.raises(QuestionError) as refused:
            clean_answer(bad)
        assert refused.value.code == code


def test_an_unanswered_question_is_seen_by_its_asker_trainers_and_overseers_only() -> None:
    """Before an answer: asker, the course's trainers, the cell's secretary and the commune committee — nobody else?"""
    q = question()
    assert [sees(v, q) for v in (member, trainer, commune_trainer, secretary, committee, admin)] == [True] * 6
    assert [sees(v, q) for v in (cellmate, other_cell, other_secretary, far_trainer)] == [False] * 4


def test_an_answer_for_the_cell_reaches_the_cell_only() -> None:
    """Answered for the cell: a cellmate sees it, a member of another cell does not."""
    q = answered(Scope.CELL)
    assert sees(cellmate, q) and not sees(other_cell, q) and not sees(other_secretary, q)


def test_an_answer_published_to_all_reaches_everyone() -> None:
    """Published to all: other cells' members and secretaries see it too."""
    q = answered(Scope.ALL)
    assert sees(cellmate, q) and sees(other_cell, q) and sees(other_secretary, q)


def test_trainers_of_a_course_are_those_whose_scope_meets_its_audience() -> None:
    """Does a trainer scoped to commune B not count for commune A's course, while province-wide ones do?"""
    assert is_course_trainer(trainer, AUDIENCE) and is_course_trainer(commune_trainer, AUDIENCE)
    assert is_course_trainer(commune_trainer, ("/tinh/",))  # a province course reaches the commune too
    assert not is_course_trainer(far_trainer, AUDIENCE) and not is_course_trainer(secretary, AUDIENCE)
    assert is_course_trainer(admin, AUDIENCE)


def test_only_the_asker_and_overseers_see_the_askers_name() -> None:
    """Do trainers and cellmates see the cell but not who asked?"""
    q = answered(Scope.ALL)
    assert may_see_asker(member, q) and may_see_asker(secretary, q) and may_see_asker(committee, q)
    assert not may_see_asker(trainer, q) and not may_see_asker(cellmate, q)


def hidden(q: Question) -> Question:
    return Question(**{**q.__dict__, "hidden_at": T0 + dt.timedelta(days=2), "hidden_by": "b1002"})


def test_a_hidden_question_is_seen_by_its_asker_and_the_trainers_only() -> None:
    """Hidden, even answered and published to all: do only the asker and the course's trainers still see it —
    not cellmates, other cells, the secretary or the committee?"""
    for q in (hidden(question()), hidden(answered(Scope.ALL))):
        assert [sees(v, q) for v in (member, trainer, commune_trainer, admin)] == [True] * 4
        assert [sees(v, q) for v in (cellmate, other_cell, secretary, committee, far_trainer)] == [False] * 5
    assert hidden_from(cellmate, True, "a1001", AUDIENCE) and not hidden_from(cellmate, False, "a1001", AUDIENCE)
    assert not hidden_from(member, True, "a1001", AUDIENCE) and not hidden_from(commune_trainer, True, "x", AUDIENCE)


def test_whoever_answers_may_hide_and_a_reason_is_short() -> None:
    """Do the course's trainers and admins moderate, secretaries and committees not; is a reason stripped,
    blank meaning none, and one past 200 characters refused?"""
    assert may_moderate(trainer, AUDIENCE) and may_moderate(admin, AUDIENCE) and may_moderate(commune_trainer, AUDIENCE)
    assert not any(may_moderate(v, AUDIENCE) for v in (member, secretary, committee, far_trainer))
    assert clean_reason("  Trùng lặp  ") == "Trùng lặp" and clean_reason("  ") is None and clean_reason(None) is None
    with pytest.raises(QuestionError) as refused:
        clean_reason("x" * 201)
    assert refused.value.code == "reason_too_long"


def test_a_hidden_question_no_longer_waits() -> None:
    """Does a hidden unanswered question leave the committees' list by age?"""
    waiting = unanswered_by_age([question(id=5), hidden(question(id=6))], T0 + dt.timedelta(days=1))
    assert [w.question.id for w in waiting] == [5]


def test_orders() -> None:
    """By moment for the player; unanswered oldest first for the inbox and for committees, with ages in days."""
    late = question(id=2, moment=5.0, created_at=T0 + dt.timedelta(days=3))
    early = question(id=3, moment=50.0, created_at=T0 - dt.timedelta(days=2))
    done = answered(id=4, created_at=T0 - dt.timedelta(days=9))
    assert [q.id for q in by_moment([early, late, done])] == [2, 4, 3]
    assert [q.id for q in inbox_order([late, done, early])] == [3, 2, 4]
    waiting = unanswered_by_age([late, done, early], T0 + dt.timedelta(days=5, hours=1))
    assert [(w.question.id, w.age_days) for w in waiting] == [(3, 7), (2, 2)]


def test_questions_are_counted_per_stretch() -> None:
    """Is each moment counted in its stretch, the very end in the last one, and outside ones dropped?"""
    assert counts_by_bucket([0, 12.5, 14.9, 15, 60, 61], 60, 4) == [3, 1, 0, 1]
    assert counts_by_bucket([1], 0, 4) == [] and counts_by_bucket([1], 60, 0) == []


def heartbeat(n: int, start: float, end: float, kind: EventKind = EventKind.HEARTBEAT) -> ProgressEvent:
    return ProgressEvent(f"e{n}", kind, start, end, n)


def test_replays_are_what_was_already_watched() -> None:
    """Watching 0–30 then going back to 10–40: is 10–30 replayed, the seek itself nothing?"""
    events = [heartbeat(1, 0, 30), heartbeat(2, 30, 10, EventKind.SEEK), heartbeat(3, 10, 40)]
    assert replayed_spans(events, 600) == [(10, 30)]
    assert replayed_spans([heartbeat(4, 20, 25)], 600, prior=[(0, 40)]) == [(20, 25)]
    assert replayed_spans([heartbeat(5, 0, 30)], 600) == []


def test_replay_totals_do_not_depend_on_arrival_order() -> None:
    """Does an offline queue arriving late and out of order count the same replayed seconds?"""
    events = [heartbeat(1, 0, 30), heartbeat(2, 20, 50), heartbeat(3, 25, 35), heartbeat(3, 25, 35)]
    forward = seconds_by_bucket(replayed_spans(events, 600))
    backward = seconds_by_bucket(replayed_spans(events[::-1], 600))
    assert forward == backward == {2: 15.0, 3: 5.0}  # e2 replays 20–30, e3 25–35 (its copy counts once)


def test_replays_rebucket_smoothly_and_rank_the_stretches() -> None:
    """Is an evenly replayed lecture even at any bucket count, and are the most replayed stretches first?"""
    even = {k: 10.0 for k in range(60)}  # all of a 600 s lecture watched again once
    assert rebucket(even, 600, 40) == [1.0] * 40 and rebucket(even, 600, 7) == [1.0] * 7
    stored = {0: 5.0, 30: 30.0, 31: 30.0, 59: 10.0}
    assert [(r.start, r.times) for r in most_replayed(stored, 600, limit=3)] == [
        (300.0, 3.0),
        (310.0, 3.0),
        (590.0, 1.0),
    ]
    assert most_replayed({0: 5.0}, 5.0)[0].times == 1.0  # a lecture shorter than one stretch
