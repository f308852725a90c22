"""In real Chromium on a phone-sized screen: a member takes the demo quiz through a dropped connection, and their
secretary grades the bài thu hoạch. The hub, its API service and its job worker are the real ones."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from diemcau.demo.seed import DEMO_DIR
from diemcau.i18n import t
from diemcau.quizzes.publish import release
from tests.browser import launch_chromium, watch_csp, log_in
from tests.demo_quiz_page import DEMO_QUIZ, ESSAY, answer_the_demo_quiz
from tests.hubserver import HubProcess

pytestmark = [pytest.mark.browser, pytest.mark.hub]

COURSE, QUIZ = "nq-trung-uong-demo", DEMO_QUIZ
PHONE = {"width": 360, "height": 740}


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_member_takes_the_quiz_on_a_phone_and_the_secretary_grades_it(hub: HubProcess) -> None:
    """Can a member answer on a 360 px screen, lose the connection, submit anyway, see the score at once, and
    later see the grade and comment their cell secretary gave the bài thu hoạch; and is a second attempt,
    submitted with the connection up, sent and scored at once?"""
    release(hub.settings, hub.factory, COURSE, QUIZ, DEMO_DIR / "courses")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        member = browser.new_context(viewport=PHONE, locale="vi-VN")
        violations = watch_csp(member)
        page = member.new_page()
        log_in(page, hub.url, "42000002")
        page.click("a.quiz-link")
        page.click(f"a[href$='/quizzes/{COURSE}/{QUIZ}']")
        expect(page.locator("h1")).to_have_text("Kiểm tra nhận thức về Nghị quyết 57-NQ/TW")
        assert fits_the_screen(page)
        answer_the_demo_quiz(page)
        page.reload()  # the page is lost (say the phone ran out of battery): the answers are still there
        expect(page.locator("input[name=q4]")).to_have_value("bo chinh tri")
        expect(page.locator("textarea[name=bai_thu_hoach]")).to_have_value(ESSAY)

        member.set_offline(True)  # the link drops just as the member submits
        page.click("button[type=submit]")
        expect(page.locator("#quiz-status")).to_have_text(t("quiz.offline"))
        member.set_offline(False)  # it comes back: the page sends the same submission again by itself
        page.wait_for_selector("#attempt-1", timeout=30_000)
        expect(page.locator("#attempt-1")).to_contain_text(t("quiz.score", score=5, max=10))
        expect(page.locator("#attempt-1")).to_contain_text(t("quiz.pending"))
        assert fits_the_screen(page)

        secretary_context = browser.new_context(viewport=PHONE, locale="vi-VN")
        watch_csp(secretary_context, violations)
        secretary = secretary_context.new_page()
        log_in(secretary, hub.url, "42000001")
        secretary.goto(f"{hub.url}services/diemcau/quizzes/{COURSE}/{QUIZ}/grading")
        card = secretary.locator("section[data-member='42000002']")
        expect(card).to_contain_text(ESSAY[:40])
        card.locator("select[name=category]").select_option("Xuất sắc")
        card.locator("textarea[name=comment]").fill("Bài thu hoạch sâu sắc, gắn với chi bộ.")
        card.locator("button").click()
        expect(card.locator(".result")).to_have_text("✓")

        page.reload()
        result = page.locator("#attempt-1")
        expect(result).to_contain_text(t("quiz.score", score=10, max=10))
        expect(result).to_contain_text(t("quiz.essay_grade", category="Xuất sắc"))
        expect(result).to_contain_text("Bài thu hoạch sâu sắc, gắn với chi bộ.")
        expect(result).to_contain_text(t("quiz.passed"))
        token = hub.token_for("42000002")
        api = f"{hub.url}services/diemcau/api/quizzes/{COURSE}/{QUIZ}"
        mine = httpx.get(api, headers={"Authorization": f"token {token}"}, timeout=30).json()
        assert mine["attempts_used"] == 1 and mine["counted_score"] == 10.0

        answer_the_demo_quiz(page)  # the second attempt, submitted with the connection up: sent at once
        page.click("button[type=submit]")
        page.wait_for_selector("#attempt-2", timeout=30_000)
        expect(page.locator("#attempt-2")).to_contain_text(t("quiz.score", score=5, max=10))
        assert httpx.get(api, headers={"Authorization": f"token {token}"}, timeout=30).json()["attempts_used"] == 2
        assert violations == []  # the pages' scripts (static/quiz.js, quiz_grading.js) all ran under the CSP
        browser.close()
