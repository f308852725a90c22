"""End to end in real Chromium through the real hub: a member watches a lecture to the end, passes the quiz with
a bài thu hoạch, their cell secretary grades it *Đạt*, and the cell dashboard — Voila in the secretary's own
server, reading the API with that server's token — shows the member as *hoàn thành*.

The course is one of this test's own (the demo's completion rule and quiz) for Chi bộ thôn Bắc, whose members
no other test of the session uses: what other tests add to the demo course cannot change this member's status,
and this course never shows on the portal of the members other tests log in as.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import Page, expect, sync_playwright

from diemcau.adapters.course_files import load_courses
from diemcau.adapters.db import accounts
from diemcau.adapters.db.courses import upsert_course
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.lectures import PublishRequest
from diemcau.adapters.storage import stores_of
from diemcau.core.roles import Role
from diemcau.demo.seed import DEMO_DIR, DEMO_PASSWORD
from diemcau.i18n import t
from diemcau.jobs.publish import publish, wait_for
from diemcau.quizzes.publish import release
from tests.browser import launch_chromium, log_in
from tests.demo_quiz_page import DEMO_QUIZ, ESSAY, answer_the_demo_quiz
from tests.data_dirs import CHEAP
from tests.hubserver import HubProcess, running_server
from tests.media_fixtures import make_video

pytestmark = [pytest.mark.browser, pytest.mark.hub]

COURSE = "nq-hoan-thanh-e2e"
TITLE = "Học tập Nghị quyết 57 tại Chi bộ thôn Bắc"
CELL = "cb-thon-bac"
MEMBER = "42000015"  # Vũ Văn Tuấn, Chi bộ thôn Bắc
SECRETARY = "42000014"  # Phan Thị Thảo, made secretary of Chi bộ thôn Bắc by the fixture
IDLE = "42000016"  # Đinh Thị Uyên, same cell, does nothing
PHONE = {"width": 360, "height": 740}


def write_course(courses: Path) -> None:
    """The demo course's folder (completion rule, quiz) as a new course for the member's cell only."""
    shutil.copytree(DEMO_DIR / "courses" / "nq-trung-uong-demo", courses / COURSE)
    path = courses / COURSE / "course.yaml"
    course = yaml.safe_load(path.read_text(encoding="utf-8"))
    course.update(id=COURSE, title=TITLE, audience=[CELL])
    path.write_text(yaml.safe_dump(course, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def lecture(hub: HubProcess, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The course loaded and its quiz released, one 10-second lecture published through the real pipeline, the
    cell's secretary, and passwords for both."""
    folder = tmp_path_factory.mktemp("completion")
    write_course(folder / "courses")
    with transaction(hub.factory) as session:
        for course in load_courses(folder / "courses"):
            upsert_course(session, course)
    release(hub.settings, hub.factory, COURSE, DEMO_QUIZ, folder / "courses")
    accounts.grant_role(hub.factory, SECRETARY, Role.SECRETARY, CELL)
    for card in (MEMBER, SECRETARY):
        accounts.set_password(hub.factory, card, DEMO_PASSWORD, verifier=CHEAP)
    video = make_video(folder / "bai-giang.mp4", seconds=10.0, size="640x360", tone=659)
    request = PublishRequest(str(video), COURSE, "Đột phá khoa học, công nghệ", "Báo cáo viên", transcribe=False)
    lecture_id = publish(hub.settings, hub.factory, stores_of(hub.settings).media, request).lecture_id
    record = wait_for(hub.settings, hub.factory, stores_of(hub.settings), lecture_id)
    assert record.status == "ready", record.error
    return lecture_id


def watch_to_the_end(page: Page, hub: HubProcess, lecture_id: str) -> None:
    """Play the lecture from the start to its end (muted, at double speed) in the player page."""
    page.goto(f"{hub.url}services/diemcau/lectures/{lecture_id}")
    page.wait_for_function("() => document.getElementById('player').currentSrc !== ''")
    page.evaluate(
        "() => { const v = document.getElementById('player'); v.muted = true; v.playbackRate = 2; return v.play(); }"
    )
    page.wait_for_function("() => document.getElementById('player').ended", timeout=60_000)


def coverage_of(hub: HubProcess, lecture_id: str, token: str) -> float:
    """The member's coverage once the player's last events have arrived (the page sends them on ``ended``)."""
    url = f"{hub.url}services/diemcau/api/lectures/{lecture_id}/progress"
    deadline, coverage = time.monotonic() + 30, 0.0
    while time.monotonic() < deadline:
        response = httpx.get(url, headers={"Authorization": f"token {token}"}, timeout=30)
        coverage = response.json()["coverage_percent"]
        if coverage >= 95:
            break
        time.sleep(0.5)
    return coverage


def take_the_quiz(page: Page, hub: HubProcess) -> None:
    """Answer and submit; the autograded half scores at once and the essay waits for the secretary."""
    page.goto(f"{hub.url}services/diemcau/quizzes/{COURSE}/{DEMO_QUIZ}")
    answer_the_demo_quiz(page)
    page.click("button[type=submit]")
    attempt = page.locator("#attempt-1")
    expect(attempt).to_contain_text(t("quiz.score", score=5, max=10), timeout=30_000)
    expect(attempt).to_contain_text(t("quiz.pending"))


def grade_the_essay(page: Page, hub: HubProcess) -> None:
    """The secretary gives the member's bài thu hoạch the lowest passing grade."""
    page.goto(f"{hub.url}services/diemcau/quizzes/{COURSE}/{DEMO_QUIZ}/grading")
    card = page.locator(f"section[data-member='{MEMBER}']")
    expect(card).to_contain_text(ESSAY[:40])
    card.locator("select[name=category]").select_option("Đạt")
    card.locator("button").click()
    expect(card.locator(".result")).to_have_text("✓")


def portal_status(page: Page, hub: HubProcess) -> str:
    """The status badge of the course on the member's own portal, as the member sees it."""
    page.goto(f"{hub.url}services/diemcau/")
    return page.locator("li.card", has_text=TITLE).locator(".badge").inner_text().strip()


def member_row_on_the_cell_dashboard(page: Page, hub: HubProcess):  # type: ignore[no-untyped-def]
    """Open ``cell.ipynb`` under Voila, choose the course, and return the member's table row."""
    page.goto(f"{hub.url}user/{SECRETARY}/voila/render/cell.ipynb", timeout=300_000)
    course_box = page.locator(".widget-dropdown", has_text=t("dashboard.course_label")).locator("select")
    expect(course_box).to_be_visible(timeout=300_000)  # the kernel has run the notebook
    course_box.select_option(label=f"{TITLE} ({COURSE})")
    return page.locator("table.diemcau-cell tr", has_text=MEMBER)


def test_a_member_completes_the_course_and_the_cell_dashboard_says_so(hub: HubProcess, lecture: str) -> None:
    """Watch, pass the quiz, essay graded *Đạt*: does the member's own portal go from *chưa bắt đầu* through
    *đang học* to *hoàn thành*, and is the member *hoàn thành* on the cell dashboard, with their coverage, score
    and grade, while a fellow member who did nothing is still *chưa bắt đầu*?"""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        member = browser.new_context(viewport=PHONE, locale="vi-VN").new_page()
        log_in(member, hub.url, MEMBER)
        assert portal_status(member, hub) == t("status.not_started")
        watch_to_the_end(member, hub, lecture)
        assert coverage_of(hub, lecture, hub.token_for(MEMBER)) >= 95
        assert portal_status(member, hub) == t("status.in_progress")  # the quiz and the essay are still to do
        take_the_quiz(member, hub)
        assert portal_status(member, hub) == t("status.in_progress")  # the essay waits for its grade

        secretary = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN").new_page()
        log_in(secretary, hub.url, SECRETARY)
        grade_the_essay(secretary, hub)
        member.goto(f"{hub.url}services/diemcau/quizzes/{COURSE}/{DEMO_QUIZ}")
        expect(member.locator("#attempt-1")).to_contain_text(t("quiz.passed"))
        assert portal_status(member, hub) == t("status.completed")

        with running_server(hub, SECRETARY, DEMO_PASSWORD):
            row = member_row_on_the_cell_dashboard(secretary, hub)
            expect(row).to_contain_text(t("status.completed"), timeout=60_000)
            expect(row).to_contain_text("Đạt")
            expect(row).to_contain_text("7.5/10")
            idle = secretary.locator("table.diemcau-cell tr", has_text=IDLE)
            expect(idle).to_contain_text(t("status.not_started"))
        browser.close()
