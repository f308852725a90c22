"""In real Chromium: a demo member logs in through the hub's login page and lands on the portal."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from diemcau.demo.seed import DEMO_PASSWORD
from diemcau.i18n import t
from tests.browser import launch_chromium, watch_csp
from tests.hubserver import HubProcess

pytestmark = [pytest.mark.browser, pytest.mark.hub]


def test_member_logs_in_and_sees_the_demo_course(hub: HubProcess) -> None:
    """Does a member who types card number and password on a phone-sized screen see the demo course, in Vietnamese?"""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 360, "height": 740}, locale="vi-VN")
        violations = watch_csp(page)
        page.goto(f"{hub.url}hub/login")
        assert page.locator("html").get_attribute("lang") == "vi"
        page.fill("#username_input", "42000006")
        page.fill("#password_input", "sai-mat-khau")
        page.click("#login_submit")
        assert t("login.failed") in page.locator("#login-error").inner_text()

        page.fill("#username_input", "42000002")
        page.fill("#password_input", DEMO_PASSWORD)
        page.click("#login_submit")
        page.wait_for_url(f"{hub.url}services/diemcau/**")
        body = page.locator("body").inner_text()
        assert "Học tập, quán triệt Nghị quyết Hội nghị Trung ương (demo)" in body
        assert "30/06/2027" in body
        assert t("status.not_started") in body
        assert violations == []
        browser.close()
