"""``diemcau quiz validate | release | results``, run in-process on a data directory in tmp with the demo province."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from diemcau.adapters.db import quizzes as store
from diemcau.apps import setup_steps
from diemcau.apps.cli import app
from diemcau.demo.seed import DEMO_DIR, seed_demo
from diemcau.jobs.context import install
from diemcau.quizzes.grading import grade_stored
from diemcau.settings import load_settings
from tests.data_dirs import CHEAP, data_dir_environ

DEMO_QUIZ = DEMO_DIR / "courses" / "nq-trung-uong-demo" / "quizzes" / "kiem-tra-nq57.yaml"
COURSE = "nq-trung-uong-demo"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Environment pointing the CLI at a fresh data directory and content folders in tmp."""
    return data_dir_environ(tmp_path)


def invoke(env: dict[str, str], *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def test_validate_accepts_the_demo_quiz(env: dict[str, str]) -> None:
    """Does `quiz validate` accept a good spec and summarise it?"""
    assert "ok — 5 question(s)" in invoke(env, "quiz", "validate", str(DEMO_QUIZ)).output


def test_validate_lists_every_problem_with_file_and_line(env: dict[str, str], tmp_path: Path) -> None:
    """Does `quiz validate` exit 1 and print file:line: field: message for each problem?"""
    bad = tmp_path / "courses" / "c" / "quizzes" / "kt.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "title: Kiểm tra\nattempts: 0\nquestions:\n  - id: q1\n    type: single\n    text: Một?\n"
        "    options: [a, b]\n    answer: C\n",
        encoding="utf-8",
    )
    output = invoke(env, "quiz", "validate", str(bad), code=1).output
    assert f"{bad}:2: attempts: phải nằm trong khoảng 1 đến 20" in output
    assert f"{bad}:8: questions[1].answer: đáp án «C» không phải một phương án" in output


def test_release_then_results_from_the_gradebook(env: dict[str, str]) -> None:
    """Does `quiz release` open a quiz, and `quiz results --json` report the gradebook's score?"""
    invoke(env, "init")  # the demo province and course without `--demo`, which releases the quiz itself
    seed_demo(install(load_settings(env)).factory, verifier=CHEAP)
    assert "is not released" in invoke(env, "quiz", "results", COURSE, "kiem-tra-nq57", code=1).output
    released = invoke(env, "quiz", "release", COURSE, "kiem-tra-nq57", "--from", str(DEMO_DIR / "courses"))
    assert "released nq-trung-uong-demo/kiem-tra-nq57: 5 question(s), 10 point(s)" in released.output
    invoke(env, "quiz", "release", COURSE, "kiem-tra-nq57", "--from", str(DEMO_DIR / "courses"))  # idempotent

    ctx = install(load_settings(env))
    factory = ctx.factory
    form = store.load_form(factory, COURSE, "kiem-tra-nq57")
    answers = {"q1": "A", "q2": ["A", "B", "C"], "q3": "false", "q4": "bo chinh tri"}
    record, _ = store.store_submission(factory, "42000002", form, "cli-test-0001", answers, dt.datetime.now(dt.UTC))
    assert grade_stored(ctx.graders, factory, record.id).score == 5.0

    rows = json.loads(invoke(env, "quiz", "results", COURSE, "kiem-tra-nq57", "--json").output)
    assert [(r["member"], r["score"], r["max_score"], r["attempts"], r["passed"]) for r in rows] == [
        ("42000002", 5.0, 10.0, 1, False)  # 5/10 is under the 70% pass mark
    ]
    text = invoke(env, "quiz", "results", COURSE, "kiem-tra-nq57").output
    assert text.startswith("42000002\t5/10\tnot passed")


def test_release_refuses_an_unknown_course(env: dict[str, str], tmp_path: Path) -> None:
    """Is releasing a quiz of a course that is not loaded refused with what to do?"""
    settings = load_settings(env)
    setup_steps.ensure_data_dir(settings)
    spec = settings.courses_dir / "khong-co" / "quizzes" / "kt.yaml"
    spec.parent.mkdir(parents=True)
    spec.write_text(DEMO_QUIZ.read_text(encoding="utf-8"), encoding="utf-8")
    assert "course sync" in invoke(env, "quiz", "release", "khong-co", "kt", code=1).output
    assert not (settings.nbgrader_dir / "khong-co").exists()  # nothing half-written
