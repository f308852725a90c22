"""The staff home in real Chromium at 360×740 through the real hub, as a cell secretary and as a commune committee:
log in, land on it, see who is behind, copy the Zalo reminder, record a group screening (and first be told what
is missing), open the essay grading page, download the official report in both formats, and find the Voila
dashboard's link — with no Content-Security-Policy violation and no request leaving 127.0.0.1.

The course is this test's own, for Chi bộ thôn Tây, whose members no other test of the session uses; its lecture
and its quiz (with a bài thu hoạch one member has sent) are rows, as the authorization tests seed them: nothing
here needs media or nbgrader. Voila itself is not opened (slow; ``test_completion_browser`` does).
Screenshots go to ``/tmp/shots-staffhome/``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from diemcau.adapters.db import accounts
from diemcau.adapters.db import quizzes as quiz_store
from diemcau.adapters.db.courses import upsert_course
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import MemberRow
from diemcau.adapters.db.models_quiz import QuizSubmissionRow
from diemcau.adapters.quiz_files import parse_quiz_text
from diemcau.core.course import Course
from diemcau.core.quiz_form import public_form
from diemcau.core.roles import Role
from diemcau.adapters.reports.signing import certificate_der, verify_pdf
from diemcau.demo.seed import DEMO_PASSWORD, make_demo_certificates
from diemcau.i18n import t
from tests.browser import launch_chromium, log_in, watch_csp
from tests.data_dirs import CHEAP
from tests.hubserver import HubProcess
from tests.quiz_support import quiz_yaml
from tests.transcript_fixtures import seed_lecture

pytestmark = [pytest.mark.browser, pytest.mark.hub]

COURSE = "nq-staff-home-e2e"
TITLE = "Học tập Nghị quyết tại Chi bộ thôn Tây"
CELL = "cb-thon-tay"
LECTURE = "lecStaffTay1"
QUIZ = "thu-hoach"
SECRETARY = "42000008"  # Bùi Thị Lan, made secretary of Chi bộ thôn Tây here
ESSAYIST = "42000009"  # Đỗ Văn Minh: sent the quiz with its bài thu hoạch, waiting for a grade
ATTENDEE = "42000010"  # Hồ Thị Ngọc: attends the group screening
COMMITTEE = "42000021"  # Cao Văn Khánh, committee of xã Thạch Hà (the demo's)
COMMUNE, COMMUNE_NAME = "xa-thach-ha", "Đảng bộ xã Thạch Hà"
PHONE = {"width": 360, "height": 740}
SHOTS = Path("/tmp/shots-staffhome")


@pytest.fixture(scope="module")
def course(hub: HubProcess) -> str:
    """The course for the cell, a ready lecture row, a released quiz with an essay and one graded attempt whose
    essay waits, and the cell's secretary."""
    with transaction(hub.factory) as session:
        upsert_course(session, Course(COURSE, TITLE, ("NQ 57",), (CELL,), dt.date.today() + dt.timedelta(days=30)))
    seed_lecture(hub.factory, LECTURE, COURSE, title="Đột phá phát triển khoa học, công nghệ")
    spec = parse_quiz_text(quiz_yaml(attempts=1), f"{QUIZ}.yaml", COURSE, QUIZ)
    quiz_store.save_release(hub.factory, public_form(spec))
    with transaction(hub.factory) as session:
        member = session.query(MemberRow).filter(MemberRow.card_number == ESSAYIST).one()
        session.add(
            QuizSubmissionRow(
                id="sub-staff-e2e",
                course_id=COURSE,
                quiz_id=QUIZ,
                member_id=member.id,
                client_id="staff-e2e",
                attempt=1,
                answers={"q1": "B", "bai_thu_hoach": "Bài thu hoạch của đồng chí Minh."},
                submitted_at=dt.datetime(2026, 3, 1),
                late=False,
                status=quiz_store.GRADED,
                score=5.0,
                max_score=spec.total_points,
                grading_error="",
                feedback=[],
            )
        )
    accounts.grant_role(hub.factory, SECRETARY, Role.SECRETARY, CELL)
    accounts.set_password(hub.factory, SECRETARY, DEMO_PASSWORD, verifier=CHEAP)
    make_demo_certificates(hub.settings.certificates_dir)  # as `diemcau init --demo` does: the commune signs
    return COURSE


def offsite(requests: list[str]) -> list[str]:
    """The requests that went anywhere but 127.0.0.1 (``data:`` and ``blob:`` never leave the page)."""
    return [
        url
        for url in requests
        if urlparse(url).scheme not in ("data", "blob") and urlparse(url).hostname != "127.0.0.1"
    ]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def downloads_both_reports(page: Page) -> None:
    """Click each report link: a non-empty file of the right kind comes down."""
    for fmt, media in (("xlsx", "spreadsheetml"), ("pdf", "application/pdf")):
        link = page.locator(f"#report a[href*='report.{fmt}']")
        with page.expect_download() as info:
            link.click()
        download = info.value
        assert download.suggested_filename.endswith(f".{fmt}") and Path(download.path()).stat().st_size > 0
        response = page.context.request.get(link.evaluate("a => a.href"))
        assert response.status == 200 and media in response.headers["content-type"] and response.body()


def the_communes_pdf(page: Page) -> bytes:
    """The commune's page says its PDF is signed; the PDF its link gives (verified once the browser is closed:
    pyHanko runs its own event loop)."""
    expect(page.locator("#report-signature")).to_have_text(t("staff.report_signed", unit=COMMUNE_NAME))
    response = page.context.request.get(page.locator("#report a[href*='report.pdf']").evaluate("a => a.href"))
    assert response.status == 200 and response.headers["x-diemcau-signature"] == "signed"
    return response.body()


def phone_page(browser):  # type: ignore[no-untyped-def]
    """A page at 360×740 that may use the clipboard and download, with the CSP violations and the URLs of every
    request it makes, as they come."""
    context = browser.new_context(viewport=PHONE, locale="vi-VN", accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    violations, requests = watch_csp(context), []
    context.on("request", lambda request: requests.append(request.url))
    return context.new_page(), violations, requests


def fits_the_phone(page: Page) -> None:
    """Nothing wider than the 360 px screen (no sideways scrolling)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_secretary_does_the_weeks_work_on_the_staff_home(hub: HubProcess, course: str) -> None:
    """As the secretary: land on the staff home, see who is behind, copy the reminder, be told what the screening
    lacks, record it, open the grading page, download both reports; the cell dashboard's link is Voila's."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page, violations, requests = phone_page(browser)
        log_in(page, hub.url, SECRETARY)
        expect(page.locator("h2", has_text=t("staff.behind"))).to_be_visible()  # landed on the staff home
        page.goto(f"{hub.url}services/diemcau/staff?course={COURSE}")
        behind = page.locator("#behind li")
        expect(behind).to_have_count(6)  # the whole cell: nobody has completed
        expect(page.locator(f"#behind li[data-card='{ESSAYIST}']")).to_contain_text(t("status.in_progress"))
        expect(page.locator(f"#behind li[data-card='{ATTENDEE}']")).to_contain_text(t("status.not_started"))
        fits_the_phone(page)
        shot(page, "secretary-home")

        page.click("#copy")
        expect(page.locator("#copy-msg")).to_have_text(t("staff.copied"))
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == page.locator("#reminder-text").input_value()
        assert t("dashboard.reminder_title", unit="Chi bộ thôn Tây") in copied and "Đỗ Văn Minh" in copied

        form = page.locator("#screening-form")
        form.locator("input[name=held_on]").fill("")
        form.locator("button[type=submit]").click()
        message = page.locator("#screening-msg")
        for key in ("staff.missing_lecture", "staff.missing_date", "staff.missing_members"):
            expect(message).to_contain_text(t(key))
        shot(page, "secretary-screening-missing")
        form.locator("select[name=lecture]").select_option(LECTURE)
        form.locator("input[name=held_on]").fill(dt.date.today().isoformat())
        form.locator("input[name=place]").fill("Nhà văn hoá thôn Tây")
        form.locator(f"input[value='{ATTENDEE}']").check()
        form.locator("button[type=submit]").click()
        expect(message).to_contain_text(
            t("dashboard.screening_saved", count=1, title="Đột phá phát triển khoa học, công nghệ")
        )
        page.reload()
        expect(page.locator(f"#behind li[data-card='{ATTENDEE}']")).to_contain_text(t("staff.coverage", percent=100))

        waiting = page.locator("#essays li")
        expect(waiting).to_contain_text(t("staff.essays_waiting", title="Kiểm tra chuyên đề chi bộ", count=1))
        downloads_both_reports(page)
        cell = page.locator("nav a", has_text=t("portal.link_cell"))
        assert cell.get_attribute("href").endswith("/hub/user-redirect/voila/render/cell.ipynb")
        assert page.locator("a[href*='/hub/spawn']").count() == 0
        shot(page, "secretary-after-screening")

        waiting.locator("a").click()
        expect(page.locator(f"section[data-member='{ESSAYIST.lower()}']")).to_contain_text(
            "Bài thu hoạch của đồng chí Minh"
        )
        shot(page, "secretary-grading")
        assert not violations, violations
        assert not offsite(requests), offsite(requests)
        browser.close()


def test_a_committee_follows_its_cells_on_the_staff_home(hub: HubProcess, course: str) -> None:
    """As the commune committee: land on the staff home, see the cells slowest first and who is behind, narrow to
    the cell and copy its reminder, see the essay waiting (no grading link: secretaries grade), download both
    reports, the commune's PDF signed with its own certificate; the committee dashboard's link is Voila's, and
    there is no screening form (secretaries record)."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page, violations, requests = phone_page(browser)
        log_in(page, hub.url, COMMITTEE)
        expect(page.locator("h2", has_text=t("staff.behind"))).to_be_visible()
        page.goto(f"{hub.url}services/diemcau/staff?course={COURSE}")
        expect(page.locator("#subunits")).to_contain_text("Chi bộ thôn Tây")
        expect(page.locator("#behind li").first).to_be_visible()
        assert page.locator("#screening-form").count() == 0
        fits_the_phone(page)
        shot(page, "committee-home")
        pdf = the_communes_pdf(page)

        page.locator("#subunits a", has_text="Chi bộ thôn Tây").click()
        expect(page.locator("#reminder-text")).to_be_visible()
        expect(page.locator("#report-signature")).to_have_text(t("staff.report_unsigned"))  # the cell has none
        page.click("#copy")
        expect(page.locator("#copy-msg")).to_have_text(t("staff.copied"))
        assert "Chi bộ thôn Tây" in page.evaluate("navigator.clipboard.readText()")
        expect(page.locator("#essays")).to_contain_text(
            t("staff.essays_waiting", title="Kiểm tra chuyên đề chi bộ", count=1)
        )
        assert page.locator("#essays a").count() == 0
        downloads_both_reports(page)
        committee = page.locator("nav a", has_text=t("portal.link_committee"))
        assert committee.get_attribute("href").endswith("/hub/user-redirect/voila/render/committee.ipynb")
        assert page.locator("a[href*='/hub/spawn']").count() == 0
        shot(page, "committee-cell")
        assert not violations, violations
        assert not offsite(requests), offsite(requests)
        browser.close()
    trusted = certificate_der(hub.settings.certificates_dir / f"{COMMUNE}.p12")
    [check] = verify_pdf(pdf, [trusted])  # PAdES, intact, covering the whole file, by the commune's certificate
    assert check.holds, check
