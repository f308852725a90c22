"""Real nbgrader: a spec compiled, generated and released; submissions graded fast and by nbgrader's own autograde."""

from __future__ import annotations

import datetime as dt
import json

import nbformat
import pytest
from nbgrader.api import Gradebook

from diemcau.adapters.nbgrader.autograde import autograde_config, read_result, run_autograde
from diemcau.adapters.nbgrader.course_dir import course_root, gradebook_url
from diemcau.adapters.nbgrader.evaluate import evaluation_plan
from diemcau.adapters.nbgrader.grader import ManualGrade, QuizGrader, QuizSubmission
from diemcau.adapters.nbgrader.release import notebook_path, read_notebook, release_quiz
from diemcau.adapters.nbgrader.submission import write_submission
from diemcau.adapters.quiz_files import parse_quiz_text
from diemcau.core.quiz_form import public_form
from diemcau.settings import QuizSettings, Settings
from tests.conftest import drop_database
from tests.quiz_support import ALL_RIGHT, COURSE, quiz_yaml

SOME_WRONG = {"q1": "A", "q2": ["A"], "q3": "true", "q4": "Hà Nôi", "bai_thu_hoach": "Tôi sẽ gương mẫu học tập."}


@pytest.fixture
def released(settings: Settings):  # type: ignore[no-untyped-def]
    """The test quiz released in a fresh nbgrader course directory."""
    spec = parse_quiz_text(quiz_yaml(closes="2099-12-31 17:00"), "kt.yaml", COURSE, "kt")
    return spec, release_quiz(settings, spec)


def _sources(path) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(cell.source for cell in read_notebook(path).cells)


def test_released_notebook_has_no_answers_or_hidden_tests(settings: Settings, released) -> None:
    """Does the released notebook hold the questions but no key, no hidden test, while the source holds both?"""
    spec, _form = released
    root = course_root(settings, COURSE)
    source, release = _sources(notebook_path(root, "source", "kt")), _sources(notebook_path(root, "release", "kt"))
    assert "BEGIN HIDDEN TESTS" in source and "answer = 'B'" in source and "'Hà Nội'" in source
    for secret in (
        "HIDDEN TESTS",
        "BEGIN SOLUTION",
        "_diemcau_check(",
        "'key'",
        "answer = 'B'",
        "Hà Nội",
        "['A', 'C']",
    ):
        assert secret not in release, secret
    assert "Câu một?" in release and "answer = None" in release
    metadata = json.dumps([c.metadata for c in read_notebook(notebook_path(root, "release", "kt")).cells])
    assert "key" not in metadata and "Hà Nội" not in metadata


def test_the_form_members_see_is_read_from_the_released_notebook(released) -> None:
    """Is the form exactly the spec's questions and rules, without keys?"""
    spec, form = released
    assert form == public_form(spec)


def test_generate_assignment_records_points_and_due_date(settings: Settings, released) -> None:
    """Does nbgrader's gradebook know the quiz: its cells, its total points and its due date (UTC)?"""
    with Gradebook(gradebook_url(settings, COURSE), COURSE) as gradebook:
        assignment = gradebook.find_assignment("kt")
        assert assignment.max_score == 1 + 2 + 1 + 1 + 5
        assert assignment.duedate == dt.datetime(2099, 12, 31, 10, 0)
        assert sorted(c.name for c in assignment.notebooks[0].grade_cells) == ["bai_thu_hoach", "q1", "q2", "q3", "q4"]


def _grades(settings: Settings, student: str) -> dict[str, tuple[float | None, bool]]:
    with Gradebook(gradebook_url(settings, COURSE), COURSE) as gradebook:
        submission = gradebook.find_submission("kt", student)
        return {g.name: (g.score, g.needs_manual_grade) for nb in submission.notebooks for g in nb.grades}


def _comments(settings: Settings, student: str) -> dict[str, str | None]:
    with Gradebook(gradebook_url(settings, COURSE), COURSE) as gradebook:
        submission = gradebook.find_submission("kt", student)
        return {c.name: c.auto_comment for nb in submission.notebooks for c in nb.comments}


NOW = dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("answers", [ALL_RIGHT, SOME_WRONG, {}], ids=["right", "some-wrong", "blank"])
def test_fast_grading_equals_nbgraders_own_autograde_on_a_kernel(settings: Settings, released, answers) -> None:
    """Does the kernel-free grader leave the gradebook exactly as `nbgrader autograde` (kernel) does?"""
    root = course_root(settings, COURSE)
    released_nb = read_notebook(notebook_path(root, "release", "kt"))
    write_submission(root, released_nb, "kt", "stock", answers, NOW)
    run_autograde(autograde_config(settings, COURSE, kernel=True), "kt", "stock")
    fast = QuizGrader(settings, COURSE).grade(QuizSubmission("kt", "fast", answers, NOW))
    assert _grades(settings, "fast") == _grades(settings, "stock")
    assert _comments(settings, "fast") == _comments(settings, "stock")
    with Gradebook(gradebook_url(settings, COURSE), COURSE) as gradebook:
        stock = read_result(gradebook, "kt", "stock")
    assert (fast.score, fast.max_score) == (stock.score, stock.max_score)


def test_grades_and_feedback_of_a_submission(settings: Settings, released) -> None:
    """Are right and wrong answers scored per question, the essay left to a human, and both folders written?"""
    result = QuizGrader(settings, COURSE).grade(QuizSubmission("kt", "a1001", SOME_WRONG, NOW))
    by_question = {q.question_id: (q.score, q.needs_manual_grade) for q in result.questions}
    assert by_question == {
        "q1": (0.0, False),
        "q2": (0.0, False),
        "q3": (1.0, False),
        "q4": (0.0, False),
        "bai_thu_hoach": (0.0, True),
    }
    assert (result.score, result.max_score, result.late_seconds) == (1.0, 10.0, 0.0)
    root = course_root(settings, COURSE)
    submitted = read_notebook(notebook_path(root, "submitted", "kt", "a1001"))
    assert "HIDDEN TESTS" not in "".join(c.source for c in submitted.cells)  # what the member sent, nothing more
    assert (
        (notebook_path(root, "submitted", "kt", "a1001").parent / "timestamp.txt").read_text().startswith("2026-03-10")
    )
    graded = read_notebook(notebook_path(root, "autograded", "kt", "a1001"))
    errors = [o for c in graded.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert len(errors) == 3  # q1, q2, q4


def test_a_new_attempt_replaces_the_previous_one_and_its_manual_grade(settings: Settings, released) -> None:
    """Does the gradebook hold only the attempt written last, with the essay grade it was given (if any)?"""
    grader = QuizGrader(settings, COURSE)
    graded_essay = {"bai_thu_hoach": ManualGrade(4.0, "Tốt")}
    first = grader.grade(QuizSubmission("kt", "a1001", SOME_WRONG, NOW, graded_essay))
    assert first.score == 1 + 4
    rewritten = {**ALL_RIGHT, "bai_thu_hoach": "Bài viết lại."}
    second = grader.grade(QuizSubmission("kt", "a1001", rewritten, NOW + dt.timedelta(hours=1)))
    assert second.score == 5 and _grades(settings, "a1001")["bai_thu_hoach"] == (0.0, True)  # awaits a human again
    assert grader.held_timestamp("kt", "a1001") == NOW + dt.timedelta(hours=1)


def test_lateness_is_measured_against_the_due_date(settings: Settings) -> None:
    """Is a submission after the closing time graded and reported late by nbgrader's measure?"""
    spec = parse_quiz_text(quiz_yaml(closes="2026-03-01"), "kt.yaml", COURSE, "kt")
    release_quiz(settings, spec)
    result = QuizGrader(settings, COURSE).grade(QuizSubmission("kt", "a1001", ALL_RIGHT, NOW))
    assert result.score == 5 and result.late_seconds > 8 * 86400
    with Gradebook(gradebook_url(settings, COURSE), COURSE) as gradebook:
        assert gradebook.find_submission("kt", "a1001").total_seconds_late == result.late_seconds


def test_notebooks_with_other_code_go_to_a_kernel(settings: Settings, released) -> None:
    """Is a notebook holding code beyond quiz cells sent to a kernel, and the kernel-free step used inside
    nbgrader's own Autograde converter otherwise?"""
    root = course_root(settings, COURSE)
    released_nb = read_notebook(notebook_path(root, "release", "kt"))
    assert evaluation_plan(released_nb) is not None
    extra = nbformat.from_dict(json.loads(json.dumps(released_nb)))
    extra.cells.append(nbformat.v4.new_code_cell("import os"))
    assert evaluation_plan(extra) is None
    write_submission(root, released_nb, "kt", "converter", ALL_RIGHT, NOW)
    run_autograde(autograde_config(settings, COURSE), "kt", "converter")  # EvaluateWithoutKernel inside nbgrader
    assert _grades(settings, "converter")["q2"] == (2.0, False)


@pytest.mark.postgres
def test_the_gradebook_can_live_in_postgresql(settings: Settings, postgres_url) -> None:  # type: ignore[no-untyped-def]
    """With ``quiz.gradebook_url`` set, is each course's gradebook a PostgreSQL database nbgrader reads?"""
    if postgres_url is None:
        pytest.skip("PostgreSQL not running (make test starts it)")
    from sqlalchemy import make_url

    base = make_url(postgres_url)
    url = base.set(database=f"{base.database}_gb_COURSE").render_as_string(hide_password=False)
    url = url.replace("_gb_COURSE", "_gb_{course}")
    pg_settings = settings.model_copy(update={"quiz": QuizSettings(gradebook_url=url)})
    spec = parse_quiz_text(quiz_yaml(), "kt.yaml", COURSE, "kt")
    release_quiz(pg_settings, spec)
    assert gradebook_url(pg_settings, COURSE).startswith("postgresql")
    result = QuizGrader(pg_settings, COURSE).grade(QuizSubmission("kt", "a1001", ALL_RIGHT, NOW))
    assert result.score == 5
    with Gradebook(gradebook_url(pg_settings, COURSE), COURSE) as gradebook:
        assert gradebook.find_submission("kt", "a1001").score == 5
    drop_database(make_url(gradebook_url(pg_settings, COURSE)).database)


def test_essay_categories_come_from_the_settings(settings: Settings, released) -> None:
    """Does a deployment's own list of essay grades (and their shares of the points) decide the essay score?"""
    from diemcau.adapters.db.quizzes import SubmissionRecord
    from diemcau.quizzes.grading import manual_grades

    _spec, form = released
    custom = settings.model_copy(update={"quiz": QuizSettings(essay_categories={"Hoàn thành": 100, "Chưa": 0})})
    record = SubmissionRecord(
        "s",
        COURSE,
        "kt",
        "a1001",
        "An",
        "/cb/",
        1,
        "c",
        {},
        NOW,
        False,
        "graded",
        essay_category="Hoàn thành",
        essay_comment="Tốt",
    )
    assert manual_grades(custom, form, record) == {"bai_thu_hoach": ManualGrade(5.0, "Tốt")}
    assert manual_grades(settings, form, record) == {}  # not a category of the default list


def test_a_gradebook_url_without_a_course_is_refused() -> None:
    """Is a shared gradebook URL (no ``{course}``) refused at start-up, naming the key?"""
    from diemcau.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="quiz.gradebook_url"):
        load_settings({"DIEMCAU_HOME": "/nonexistent", "DIEMCAU_QUIZ__GRADEBOOK_URL": "postgresql://db/gradebook"})
