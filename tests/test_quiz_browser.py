"""In real Chromium on a phone-sized screen: a member takes the demo quiz through a dropped connection, and their
secretary grades the bài thu hoạch. The hub, its API service and its job worker are the real ones."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from diemcau.demo.seed import DEMO_DIR, DEMO_PASSWORD
from diemcau.i18n import t
from diemcau.quizzes.publish import release
from tests.browser import launch_chromium
from tests.hubserver import HubProcess

pytestmark = [pytest.mark.browser, pytest.mark.hub]

COURSE, QUIZ = "nq-trung-uong-demo", "kiem-tra-nq57"
PHONE = {"width": 360, "height": 740}
ESSAY = " ".join(["Tôi sẽ gương mẫu học tập và vận động chi bộ ứng dụng chuyển đổi số trong sinh hoạt."] * 3)


def log_in(page: Page, hub: HubProcess, card: str) -> None:
    page.goto(f"{hub.url}hub/login")
    page.fill("#username_input", card)
    page.fill("#password_input", DEMO_PASSWORD)
    page.click("#login_submit")
    page.wait_for_url(f"{hub.url}services/diemcau/**")


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def answer_the_quiz(page: Page) -> None:
    page.get_by_label("Đột phá phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia").check()
    for option in ("Khoa học, công nghệ", "Đổi mới sáng tạo", "Chuyển đổi số"):
        page.get_by_label(option, exact=True).check()
    page.locator("fieldset[data-question=q3]").get_by_label(t("quiz.false")).check()
    page.fill("input[name=q4]", "bo chinh tri")  # typed without marks, as on a phone without a Vietnamese keyboard
    page.fill("textarea[name=bai_thu_hoach]", ESSAY)


def test_a_member_takes_the_quiz_on_a_phone_and_the_secretary_grades_it(hub: HubProcess) -> None:
    """Can a member answer on a 360 px screen, lose the connection, submit anyway, see the score at once, and
    later see the grade and comment their cell secretary gave the bài thu hoạch?"""
    release(hub.settings, hub.factory, COURSE, QUIZ, DEMO_DIR / "courses")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        member = browser.new_context(viewport=PHONE, locale="vi-VN")
        page = member.new_page()
        log_in(page, hub, "42000002")
        page.click("a.quiz-link")
        page.click(f"a[href$='/quizzes/{COURSE}/{QUIZ}']")
        expect(page.locator("h1")).to_have_text("Kiểm tra nhận thức về Nghị quyết 57-NQ/TW")
        assert fits_the_screen(page)
        answer_the_quiz(page)
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

        secretary = browser.new_context(viewport=PHONE, locale="vi-VN").new_page()
        log_in(secretary, hub, "42000001")
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
        browser.close()

    token = hub.token_for("42000002")
    api = f"{hub.url}services/diemcau/api/quizzes/{COURSE}/{QUIZ}"
    mine = httpx.get(api, headers={"Authorization": f"token {token}"}, timeout=30).json()
    assert mine["attempts_used"] == 1 and mine["counted_score"] == 10.0
