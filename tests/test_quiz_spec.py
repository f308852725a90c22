"""Quiz specs, answer checking and the rules of taking a quiz: pure functions, no nbgrader, no database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from diemcau.adapters.quiz_files import QuizFileError, load_quiz_file, parse_quiz_text
from diemcau.core.quiz_answers import fold_diacritics, is_correct, normalise_text, short_answer_matches
from diemcau.core.quiz_form import AnswerError, clean_answers, presented
from diemcau.core.quiz_rules import (
    AttemptScore,
    QuizRules,
    SubmissionRefused,
    admit,
    can_grade_essay,
    counted_attempt,
    has_passed,
)
from diemcau.core.quiz_spec import Counting, LatePolicy, QuestionType, to_moment
from diemcau.core.roles import Grant, Role, Viewer
from diemcau.demo.seed import DEMO_DIR
from tests.quiz_support import form_of_spec

GOOD = """\
title: Kiểm tra
pass_mark: 60
attempts: 2
counts: last
opens: 2026-01-01
closes: 2026-06-30 17:00
questions:
  - id: q1
    type: single
    text: Một?
    options: [A1, B1, C1]
    answer: B
  - id: q2
    type: multiple
    text: Hai?
    options: [a, b, c, d]
    answer: [A, C]
    points: 2
  - id: q3
    type: true_false
    text: Ba?
    answer: sai
  - id: q4
    type: short
    text: Bốn?
    answer: [Hà Nội]
  - id: essay
    type: essay
    text: Viết bài thu hoạch.
"""


def test_a_good_spec_becomes_a_quiz() -> None:
    """Does a complete spec parse into questions, points, window (Vietnam time) and rules?"""
    spec = parse_quiz_text(GOOD, "kt.yaml", "nq", "kt")
    assert [q.type for q in spec.questions] == [
        QuestionType.SINGLE,
        QuestionType.MULTIPLE,
        QuestionType.TRUE_FALSE,
        QuestionType.SHORT,
        QuestionType.ESSAY,
    ]
    assert spec.total_points == 1 + 2 + 1 + 1 + 10
    assert spec.questions[2].answer == ("false",)
    assert spec.opens == dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    assert spec.closes.astimezone(dt.UTC) == dt.datetime(2026, 6, 30, 10, 0, tzinfo=dt.UTC)
    assert (spec.attempts, spec.counts, spec.late, spec.pass_percent) == (2, Counting.LAST, LatePolicy.ACCEPT, 60)


def test_the_demo_quiz_is_valid() -> None:
    """Does the demo course ship a valid quiz with every question type?"""
    spec = load_quiz_file(DEMO_DIR / "courses" / "nq-trung-uong-demo" / "quizzes" / "kiem-tra-nq57.yaml")
    assert spec.course_id == "nq-trung-uong-demo" and {q.type for q in spec.questions} == set(QuestionType)


def _replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


# (spec text, line, field, words the Vietnamese message must contain). A missing field is placed on the line
# where its question (or the file) starts; any other problem on the line of the field itself.
BAD_SPECS = [
    ("title: x\n  pass_mark: 5\n", 2, "(tệp)", "YAML"),
    ("- a\n- b\n", 1, "(tệp)", "khoá: giá trị"),
    (_replace("title: Kiểm tra\n", ""), 1, "title", "thiếu"),
    (_replace("pass_mark: 60", "pass_mark: 160"), 2, "pass_mark", "0 đến 100"),
    (_replace("attempts: 2", "attempts: 0"), 3, "attempts", "1 đến 20"),
    (_replace("attempts: 2", "attempts: hai"), 3, "attempts", "một số"),
    (_replace("counts: last", "counts: first"), 4, "counts", "best, last"),
    (_replace("opens: 2026-01-01", "opens: mai"), 5, "opens", "2026-06-30"),
    (_replace("opens: 2026-01-01", "opens: 2026-12-01"), 6, "closes", "sau thời điểm mở"),
    (_replace("pass_mark: 60", "pass_mark: 60\nshuffle: yes please"), 3, "shuffle", "true, false"),
    (_replace("pass_mark: 60", "pass_mark: 60\ntime_limit: 30"), 3, "time_limit", "không có trường"),
    ("title: x\nquestions: []\n", 2, "questions", "ít nhất một câu hỏi"),
    (_replace("  - id: q1\n", "  - id: Q 1\n"), 8, "questions[1].id", "mã câu hỏi"),
    (_replace("  - id: q2\n", "  - id: q1\n"), 13, "questions[2].id", "bị trùng"),
    (_replace("    type: single\n", ""), 8, "questions[1].type", "thiếu"),
    (_replace("    type: single\n", "    type: essai\n"), 9, "questions[1].type", "single, multiple"),
    (_replace("    text: Một?\n", ""), 8, "questions[1].text", "thiếu"),
    (_replace("    options: [A1, B1, C1]\n", "    options: [A1]\n"), 11, "questions[1].options", "ít nhất 2"),
    (_replace("    options: [A1, B1, C1]\n", "    options: [A1, a1]\n"), 11, "questions[1].options[2]", "bị trùng"),
    (_replace("    answer: B\n", "    answer: D\n"), 12, "questions[1].answer", "«D»"),
    (_replace("    answer: B\n", "    answer: [A, B]\n"), 12, "questions[1].answer", "đúng một đáp án"),
    (_replace("    answer: B\n", ""), 8, "questions[1].answer", "thiếu"),
    (_replace("    answer: [A, C]\n", "    answer: [A, A]\n"), 17, "questions[2].answer", "lặp"),
    (_replace("    points: 2\n", "    points: 0\n"), 18, "questions[2].points", "0.01"),
    (_replace("    answer: sai\n", "    answer: có lẽ\n"), 22, "questions[3].answer", "true (đúng)"),
    (_replace("    answer: [Hà Nội]\n", "    answer: []\n"), 26, "questions[4].answer", "ít nhất một đáp án"),
    (
        _replace("    answer: [Hà Nội]\n", "    answer: [Hà Nội]\n    options: [x, y]\n"),
        27,
        "questions[4].options",
        "không có phương án",
    ),
    (
        _replace("    text: Viết bài thu hoạch.\n", "    text: Viết bài thu hoạch.\n    answer: x\n"),
        30,
        "questions[5].answer",
        "chấm tay",
    ),
    (_replace("counts: last", "counts: best"), 4, "counts", "counts: last"),
    (_replace("  - id: q1\n", "  - q1\n  - id: q1x\n"), 8, "questions[1]", "nhóm «khoá: giá trị»"),
]


@pytest.mark.parametrize(("text", "line", "field", "words"), BAD_SPECS)
def test_every_bad_spec_names_file_line_and_field(text: str, line: int | None, field: str, words: str) -> None:
    """Is each kind of mistake reported with the file, the line, the field and a Vietnamese explanation?"""
    with pytest.raises(QuizFileError) as caught:
        parse_quiz_text(text, "courses/nq/quizzes/kt.yaml", "nq", "kt")
    matching = [p for p in caught.value.problems if p.field == field]
    assert matching, f"no problem on {field}: {caught.value}"
    assert matching[0].line == line and matching[0].file == "courses/nq/quizzes/kt.yaml"
    assert words in matching[0].message
    assert f"courses/nq/quizzes/kt.yaml:{line}: {field}: " in str(caught.value)


def test_a_bad_file_name_and_missing_file_are_reported(tmp_path: Path) -> None:
    """Are a quiz id unusable by nbgrader and a missing file explained?"""
    with pytest.raises(QuizFileError, match="không dùng được làm mã"):
        parse_quiz_text(GOOD, "Bài 1.yaml", "nq", "Bài 1")
    with pytest.raises(QuizFileError, match="không tìm thấy tệp"):
        load_quiz_file(tmp_path / "quizzes" / "none.yaml")


def test_every_problem_is_listed_at_once() -> None:
    """Does one run list all the problems, so the trainer fixes the file in one go?"""
    text = _replace("attempts: 2", "attempts: 0").replace("    answer: B\n", "    answer: Z\n")
    with pytest.raises(QuizFileError) as caught:
        parse_quiz_text(text, "kt.yaml", "nq", "kt")
    assert {p.field for p in caught.value.problems} == {"attempts", "questions[1].answer"}


@pytest.mark.parametrize(
    ("answer", "keys", "lenient", "right"),
    [
        ("Hà Nội", ["Hà Nội"], True, True),
        ("  hà   nội. ", ["Hà Nội"], True, True),
        ("ha noi", ["Hà Nội"], True, True),  # typed with no marks at all: accepted
        ("ha noi", ["Hà Nội"], False, False),  # unless the question asks for exact marks
        ("hà nôi", ["Hà Nội"], True, False),  # marks typed, but wrong ones: wrong
        ("dang vien", ["Đảng viên"], True, True),  # đ folds to d
        ("ban", ["bàn"], True, True),
        ("bán", ["bàn"], True, False),
        ("BCT", ["Bộ Chính trị", "BCT"], True, True),
        ("", ["x"], True, False),
    ],
)
def test_short_answers_are_diacritic_aware(answer: str, keys: list[str], lenient: bool, right: bool) -> None:
    """Are marks required when typed, forgiven when absent (unless exact marks are asked), and đ folded?"""
    assert short_answer_matches(answer, keys, lenient) is right


def test_text_normalisation() -> None:
    """Do NFD input, case and spacing normalise to the same text?"""
    assert normalise_text("Ha\u0300  NO\u0323\u0302I!") == "hà nội"
    assert fold_diacritics("Đảng Viên") == "Dang Vien"


def test_choice_answers() -> None:
    """Are single, multiple and true/false answers checked exactly (no partial multiple choice)?"""
    assert is_correct({"type": "single", "key": ["B"]}, "b")
    assert not is_correct({"type": "single", "key": ["B"]}, None)
    assert is_correct({"type": "multiple", "key": ["A", "C"]}, ["C", "A"])
    assert not is_correct({"type": "multiple", "key": ["A", "C"]}, ["A"])
    assert not is_correct({"type": "multiple", "key": ["A", "C"]}, ["A", "C", "D"])
    assert is_correct({"type": "true_false", "key": ["false"]}, False)
    assert is_correct({"type": "true_false", "key": ["false"]}, "false")


NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def test_the_window_and_attempts() -> None:
    """Is a submission refused before opening and over the attempts, and accepted but late after closing?"""
    rules = QuizRules(attempts=2, opens=NOW - HOUR, closes=NOW + HOUR)
    assert admit(rules, NOW, 0).attempt == 1 and not admit(rules, NOW, 1).late
    with pytest.raises(SubmissionRefused) as early:
        admit(rules, NOW - 2 * HOUR, 0)
    assert early.value.code == "not_open"
    with pytest.raises(SubmissionRefused) as over:
        admit(rules, NOW, 2)
    assert over.value.code == "no_attempts_left" and over.value.params == {"attempts": 2}
    assert admit(rules, NOW + 2 * HOUR, 0).late
    refusing = QuizRules(closes=NOW - HOUR, late=LatePolicy.REFUSE)
    with pytest.raises(SubmissionRefused, match="closed"):
        admit(refusing, NOW, 0)


def test_best_or_last_attempt_counts() -> None:
    """Does 'best' pick the highest score (earliest on a tie) and 'last' the latest attempt?"""
    graded = [AttemptScore(1, 7.0), AttemptScore(2, 9.0), AttemptScore(3, 9.0), AttemptScore(4, 5.0)]
    assert counted_attempt(Counting.BEST, graded).attempt == 2
    assert counted_attempt(Counting.LAST, graded).attempt == 4
    assert counted_attempt(Counting.BEST, []) is None
    assert has_passed(7, 10, 70) and not has_passed(6.9, 10, 70)


def test_shuffling_is_fixed_per_member_and_attempt() -> None:
    """Does each member see a stable order, different between members, always with the same questions?"""
    spec = parse_quiz_text(GOOD.replace("pass_mark: 60", "pass_mark: 60\nshuffle: true"), "kt.yaml", "nq", "kt")
    form = form_of_spec(spec)
    first = [q.id for q in presented(form, "a1001:1")]
    assert first == [q.id for q in presented(form, "a1001:1")]
    orders = {tuple(q.id for q in presented(form, f"member{i}:1")) for i in range(20)}
    assert len(orders) > 1 and all(sorted(o) == sorted(first) for o in orders)
    options = {tuple(o.id for o in presented(form, f"m{i}")[0].options) for i in range(20)}
    assert len(options) > 1


def test_answers_are_checked_against_the_form() -> None:
    """Are unknown questions and answers outside the options refused, and blanks dropped?"""
    form = form_of_spec(parse_quiz_text(GOOD, "kt.yaml", "nq", "kt"))
    assert clean_answers(form, {"q1": "B", "q2": ["C", "A"], "q3": "false", "q4": "", "essay": "Bài"}) == {
        "q1": "B",
        "q2": ["A", "C"],
        "q3": "false",
        "essay": "Bài",
    }
    for bad in ({"q9": "A"}, {"q1": "Z"}, {"q2": "A"}, {"q3": "maybe"}, {"essay": ["x"]}):
        with pytest.raises(AnswerError):
            clean_answers(form, bad)


def test_only_a_members_secretary_grades_their_essay() -> None:
    """Does essay grading belong to the secretary of the member's cell (or an admin), not a committee?"""
    secretary = Viewer("s", "/t/x/a/", (Grant(Role.SECRETARY, "/t/x/a/"),))
    committee = Viewer("c", "/t/x/b/", (Grant(Role.COMMITTEE, "/t/x/"),))
    admin = Viewer("z", "/t/", (Grant(Role.ADMIN, None),))
    assert can_grade_essay(secretary, "/t/x/a/") and not can_grade_essay(secretary, "/t/x/b/")
    assert not can_grade_essay(committee, "/t/x/a/") and can_grade_essay(admin, "/t/x/a/")


def test_dates_in_specs_are_vietnam_time() -> None:
    """Is a bare closing date the end of that day in Vietnam, and an explicit offset kept?"""
    assert to_moment(dt.date(2026, 6, 30), end_of_day=True).astimezone(dt.UTC).hour == 16
    assert to_moment("2026-06-30T08:00:00+00:00").utcoffset() == dt.timedelta(0)
    assert to_moment("not a date") is None
