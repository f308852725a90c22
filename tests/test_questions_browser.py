"""In real Chromium on a 360 px wide page: a member sees an answered question as a mark on the timeline, jumps
there with it, asks a question at the moment the player is at, and gets a refusal in Vietnamese for a too short one.

The lecture is a generated 20 s clip published with the real pipeline (ffmpeg, the in-process queue); the API
runs under uvicorn on loopback, with the member's bearer token sent by the browser context.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.lectures import PublishRequest
from diemcau.adapters.db.models_questions import LectureQuestionRow
from diemcau.adapters.db.questions import answer, ask, hide
from diemcau.adapters.storage import stores_of
from diemcau.core.questions import Scope
from diemcau.apps.setup_steps import ensure_data_dir, ensure_database
from diemcau.i18n import t
from diemcau.jobs.publish import publish, wait_for
from tests.apiclient import token_of
from tests.browser import launch_chromium
from tests.dashboard_fixtures import running_api
from tests.media_fixtures import make_video
from tests.seed import seed_small_province

pytestmark = [pytest.mark.browser]


@pytest.fixture
def factory(settings) -> Iterator[sessionmaker[Session]]:  # type: ignore[no-untyped-def]
    """The settings' own database (the publish jobs open it by URL), migrated."""
    ensure_data_dir(settings)
    factory = ensure_database(settings)
    yield factory
    factory.kw["bind"].dispose()


def test_member_asks_at_the_current_moment_on_a_phone(settings, factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Does the mark of an answered question seek to its moment, and does 'Đặt câu hỏi' pin a question to the
    moment the player is at — with a Vietnamese refusal for a too short one, and nothing overflowing 360 px? Once
    a trainer hides it, does the member still see it, with the note saying so?"""
    seeded = seed_small_province(factory)
    source = make_video(tmp_path / "bai-giang.mp4", seconds=20.0, size="320x180", tone=660)
    lecture_id = publish(
        settings,
        factory,
        stores_of(settings).media,
        PublishRequest(str(source), "nq-xa-a", "Bài giảng hỏi đáp", transcribe=False),
    ).lecture_id
    record = wait_for(settings, factory, stores_of(settings), lecture_id)
    assert record.status == "ready", record.error
    earlier = ask(
        factory,
        lecture_id=lecture_id,
        course_id="nq-xa-a",
        duration=record.duration_seconds,
        asker="a1002",
        asker_path=seeded["paths"]["cb-a1"],
        moment=5.0,
        text="Câu hỏi đã có trả lời?",
    )
    answer(factory, earlier.id, text="Đây là câu trả lời.", scope=Scope.CELL, by="b1002")
    with running_api(settings, factory, seeded) as api, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(
            viewport={"width": 360, "height": 740},
            locale="vi-VN",
            extra_http_headers={"Authorization": f"Bearer {token_of('member')}"},
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{api.url}/lectures/{lecture_id}")
        page.wait_for_selector("#q-list li#q-%d" % earlier.id)
        assert "Đây là câu trả lời." in page.inner_text("#q-list")
        assert page.locator("#q-marks button").count() == 1

        page.click("#q-marks button")  # a tap is a user gesture: the player starts from the question's moment
        page.wait_for_function("() => Math.abs(document.getElementById('player').currentTime - 5) < 1.5")
        page.evaluate("() => { const v = document.getElementById('player'); v.pause(); v.currentTime = 12.5; }")
        page.wait_for_function("() => Math.abs(document.getElementById('player').currentTime - 12.5) < 0.1")

        page.click("#q-ask")
        assert page.inner_text("#q-moment") == t("questions.ask_at", time="00:12")
        page.fill("#q-text", "ab")
        page.click("#q-send")
        page.wait_for_function(
            "() => document.getElementById('q-status').textContent === %r" % t("questions.text_too_short", min=3)
        )
        assert page.input_value("#q-text") == "ab"  # kept, to correct
        page.fill("#q-text", "Xin hỏi về điểm mới ở phút này?")
        page.click("#q-send")
        page.wait_for_function("() => document.getElementById('q-status').textContent === %r" % t("questions.sent"))
        page.wait_for_function("() => document.querySelectorAll('#q-list li').length === 2")
        assert page.is_hidden("#q-form") and page.is_visible("#q-ask")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        with factory() as session:  # a trainer hides the member's question: they still see it, with a note
            mine = session.scalar(select(LectureQuestionRow.id).where(LectureQuestionRow.asker == "a1001"))
        hide(factory, mine, hidden=True, reason="Trùng lặp", by="b1002")
        page.reload()
        page.wait_for_selector(f"#q-{mine} .q-hidden")
        assert page.inner_text(f"#q-{mine} .q-hidden") == t("questions.hidden_note")
        assert "Trùng lặp" not in page.inner_text("#q-list")  # the reason is for the trainers
        assert errors == []
        browser.close()
    with factory() as session:
        moments = sorted(session.scalars(select(LectureQuestionRow.moment)))
    assert len(moments) == 2 and moments[0] == 5.0 and abs(moments[1] - 12.5) < 0.1
