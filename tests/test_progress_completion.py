"""Pure rules of issue 7: merging watched intervals, offline replay, and the completion rule."""

from diemcau.core.completion import MemberRecords, evaluate
from diemcau.core.course import CompletionRule
from diemcau.core.progress import EventKind, ProgressEvent, clamp_span, heard_to_the_end, merge_intervals, summarise

HB = EventKind.HEARTBEAT


def ev(event_id: str, start: float, end: float, seq: int, kind: EventKind = HB) -> ProgressEvent:
    return ProgressEvent(event_id, kind, start, end, seq)


def test_overlapping_and_out_of_order_spans_merge() -> None:
    """Do overlapping, touching and out-of-order spans merge into disjoint intervals?"""
    assert merge_intervals([(30, 40), (0, 10), (5, 15), (15, 20), (50, 60)]) == ((0, 20), (30, 40), (50, 60))


def test_replayed_events_do_not_double_count() -> None:
    """Does an offline queue replayed twice give the same coverage as once?"""
    events = [ev("a", 0, 15, 1), ev("b", 15, 30, 2)]
    once = summarise(events, duration=100)
    twice = summarise(events + events, duration=100)
    assert once == twice and once.coverage_percent == 30.0


def test_rewatching_adds_no_coverage() -> None:
    """Does watching the same minute twice count it once?"""
    progress = summarise([ev("a", 0, 60, 1), ev("b", 0, 60, 2)], duration=120)
    assert progress.watched_seconds == 60 and progress.coverage_percent == 50.0


def test_coverage_cannot_exceed_duration() -> None:
    """Is a claim past the end (or before zero) clamped to the lecture?"""
    progress = summarise([ev("a", -50, 500, 1)], duration=100)
    assert progress.coverage_percent == 100.0 and progress.intervals == ((0.0, 100.0),)


def test_reversed_nan_and_tiny_spans_are_ignored() -> None:
    """Are reversed, NaN and sub-quarter-second spans ignored rather than trusted?"""
    assert clamp_span(50, 10, 100) is None
    assert clamp_span(float("nan"), 10, 100) is None
    assert clamp_span(10, 10.1, 100) is None


def test_seek_moves_resume_but_adds_nothing() -> None:
    """Does a seek set the resume position without adding watched time?"""
    progress = summarise([ev("a", 0, 10, 1), ev("b", 10, 80, 2, EventKind.SEEK)], duration=100)
    assert progress.watched_seconds == 10 and progress.resume_position == 80


def test_resume_follows_sequence_not_arrival() -> None:
    """Is the resume position taken from the latest event by sequence, even when it arrives first?"""
    progress = summarise([ev("late", 40, 55, 3), ev("early", 0, 15, 1)], duration=100)
    assert progress.resume_position == 55


def test_ended_resets_resume_and_prior_intervals_count() -> None:
    """Does reaching the end reset the resume point, and do stored intervals merge with new events?"""
    progress = summarise([ev("z", 90, 100, 5, EventKind.ENDED)], duration=100, prior=[(0, 90)])
    assert progress.coverage_percent == 100.0 and progress.resume_position == 0.0


def test_a_lecture_heard_to_the_end_is_not_resumed_at_its_end() -> None:
    """Is a lecture heard to the end (an ``ended`` event, or a last heartbeat in its final stretch with the rest
    heard) told apart from one left in the middle, from one whose end was heard long before the member stopped
    elsewhere, and from one never played — so the player starts over instead of "Phát tiếp từ <the end>"?"""

    def heard(events, prior=(), duration=2700.0):  # type: ignore[no-untyped-def]
        return heard_to_the_end(summarise(events, duration, prior), duration)

    assert heard([ev("e", 2600, 2700, 9, EventKind.ENDED)])
    assert heard([ev("h", 2600, 2699.2, 9)])  # stalled on the last fragment: no ended, within the tolerance
    assert heard([ev("h", 2650, 2690, 9)], prior=[(2600, 2700)])  # a late heartbeat, the rest heard before
    assert not heard([ev("h", 0, 1500, 9)])  # stopped in the middle
    assert not heard([ev("h", 2000, 2500, 9)], prior=[(2600, 2700)])  # heard the end earlier, stopped before it
    assert not heard([ev("h", 2600, 2690, 9)])  # the last 10 s never heard
    assert not heard([])
    assert not heard([ev("h", 0, 30, 1)], duration=0)


RULE = CompletionRule(min_watched_percent=95.0)


def test_complete_when_watched_passed_and_graded() -> None:
    """Is a member complete with 95% watched, the quiz passed and the essay graded Đạt?"""
    records = MemberRecords({"l1": 96.0}, quizzes_passed=frozenset({"q1"}), essay_grade="Đạt")
    result = evaluate(RULE, ("l1",), ("q1",), records)
    assert result.completed and result.missing == ()


def test_screening_counts_instead_of_watching() -> None:
    """Does attending a group screening count for a lecture not watched online?"""
    records = MemberRecords({}, screened=frozenset({"l1"}), quizzes_passed=frozenset({"q1"}), essay_grade="Tốt")
    assert evaluate(RULE, ("l1",), ("q1",), records).completed


def test_each_missing_condition_is_named() -> None:
    """Are 94% watched, a failed quiz and a 'Không đạt' essay each reported as missing?"""
    records = MemberRecords({"l1": 94.0}, quizzes_attempted=frozenset({"q1"}), essay_grade="Không đạt")
    result = evaluate(RULE, ("l1",), ("q1",), records)
    assert not result.completed and result.started
    assert result.missing == ("lecture:l1", "quiz:q1", "essay")


def test_nothing_done_is_not_started() -> None:
    """Is a member with no records 'not started'?"""
    result = evaluate(RULE, ("l1",), (), MemberRecords({}))
    assert not result.started and not result.completed


def test_rule_switches() -> None:
    """Do rules without quiz or essay requirements, or without screening credit, behave as configured?"""
    lenient = CompletionRule(min_watched_percent=80, quizzes_passed=False, essay_required=False)
    assert evaluate(lenient, ("l1",), ("q1",), MemberRecords({"l1": 80.0})).completed
    strict = CompletionRule(screening_counts=False, quizzes_passed=False, essay_required=False)
    assert not evaluate(strict, ("l1",), (), MemberRecords({}, screened=frozenset({"l1"}))).completed
