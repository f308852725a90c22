"""The committee and lecture dashboards with questions and replays, executed headless against the real API."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models_questions import LectureQuestionRow
from diemcau.adapters.db.questions import ask, utcnow
from diemcau.dashboards import committee_view, lecture_view
from diemcau.i18n import t
from tests.apiclient import token_of
from tests.dashboard_fixtures import RunningApi, running_api, seed_cell_course, watch
from tests.test_dashboard_notebooks import execute, no_errors, svg_charts, widget_values
from tests.transcript_fixtures import LECTURE_ID

CELL = "/tinh/xa-a/cb-a1/"


@pytest.fixture
def api(settings, sqlite_factory) -> Iterator[RunningApi]:  # type: ignore[no-untyped-def]
    """The seeded cell course, two unanswered questions (3 and 8 days old) and a replayed minute."""
    seeded = seed_cell_course(sqlite_factory)
    for asker, moment, days, text in (
        ("a1002", 65.0, 3, "Vì sao <b>phải</b> học?"),
        ("a1001", 12.5, 8, "Điểm mới là gì?"),
    ):
        question = ask(
            sqlite_factory,
            lecture_id=LECTURE_ID,
            course_id="nq-cb-a1",
            duration=600.0,
            asker=asker,
            asker_path=CELL,
            moment=moment,
            text=text,
        )
        with transaction(sqlite_factory) as session:
            session.execute(
                update(LectureQuestionRow)
                .where(LectureQuestionRow.id == question.id)
                .values(created_at=utcnow() - dt.timedelta(days=days, hours=1))
            )
    watch(sqlite_factory, "a1002", LECTURE_ID, 240, 300, event="again")  # a1002 had watched 0-300: 4:00-5:00 again
    with running_api(settings, sqlite_factory, seeded) as running:
        yield running


def test_committee_sees_unanswered_questions_by_age(api: RunningApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does the commune committee's page list both questions, the 8-day-old one first, with the asker, escaped?"""
    notebook = execute(
        "committee.ipynb",
        {"DIEMCAU_API_URL": api.url, "JUPYTERHUB_API_TOKEN": token_of("committee"), "DIEMCAU_COURSE": "nq-cb-a1"},
        monkeypatch,
    )
    assert no_errors(notebook)
    shown = widget_values(notebook)
    assert t("questions.dashboard_heading") in shown and t("questions.dashboard_summary", count=2, days=8) in shown
    oldest, newer = shown.index("Điểm mới là gì?"), shown.index("Vì sao &lt;b&gt;phải&lt;/b&gt; học?")
    assert oldest < newer and "<td>8</td><td>Chi bộ thôn A1</td><td>Nguyễn Văn An</td>" in shown


def test_lecture_page_shows_questions_and_replays(api: RunningApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does the trainer's page count the 2 questions, list 4:00–5:00 as watched again once, and chart both?"""
    notebook = execute(
        "lecture.ipynb",
        {"DIEMCAU_API_URL": api.url, "JUPYTERHUB_API_TOKEN": token_of("trainer"), "DIEMCAU_LECTURE": LECTURE_ID},
        monkeypatch,
    )
    assert no_errors(notebook)
    shown = widget_values(notebook)
    assert t("questions.questions_total", count=2) in shown
    assert t("questions.replay_line", start="4:00", end="4:10", times="1") in shown
    chart = svg_charts(notebook, "questions.chart_moments")
    questions, replays = (
        [float(v) for v in re.findall(rf"data-series='{n}' data-value='([^']*)'", chart)] for n in (0, 1)
    )
    assert sum(questions) == 2 and questions[0] == 1 and questions[4] == 1  # 40 buckets of 15 s: 0:12 and 1:05
    assert replays[16:20] == [1.0] * 4 and sum(replays) == 4.0


def test_view_models_without_questions() -> None:
    """With nothing waiting and nothing replayed, do the views say so instead of drawing empty tables?"""
    assert t("questions.dashboard_none") in committee_view.questions_html(committee_view.waiting_questions([]))
    assert t("questions.replays_none") in lecture_view.replayed_html({"buckets": []})
    assert lecture_view.moments({"buckets": [{"start": 0, "end": 60, "share": 1.0}]}).questions == (0,)
