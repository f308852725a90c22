"""The member portal page: Vietnamese labels, dates as Vietnamese write them, staff links, escaping, weight."""

from __future__ import annotations

import datetime as dt
import gzip
import re

from sqlalchemy import update

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import MemberRow
from diemcau.apps.api.pages.environment import days_left_text, format_date
from diemcau.i18n import t
from tests.apiclient import PREFIX, auth, seeded_client

PAGE_BUDGET_BYTES = 300 * 1024  # the whole first load on a weak rural link (docs/benchmarks.md)


def portal(client, role: str):  # type: ignore[no-untyped-def]
    """The member portal of ``role`` (``/courses``: ``/`` is the staff home of secretaries and committees)."""
    response = client.get(f"{PREFIX}/courses", headers=auth(role, Accept="text/html"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    return response


def test_member_sees_their_courses_with_vietnamese_status_and_dates(settings, sqlite_factory) -> None:
    """Does a member see their own courses, deadline as dd/mm/yyyy, days left and a Vietnamese status badge?"""
    client, _ = seeded_client(settings, sqlite_factory)
    html = portal(client, "member").text
    assert '<html lang="vi">' in html and 'name="viewport"' in html
    assert t("portal.greeting", name="Nguyễn Văn An") in html and "Chi bộ thôn A1" in html
    assert "Nghị quyết Đại hội Đảng bộ tỉnh" in html and "Chuyên đề chi bộ A1" in html
    assert "Chuyên đề chi bộ B1" not in html  # another commune's course
    assert "30/03/2026" in html and "Còn 20 ngày" in html and "Chưa bắt đầu" in html
    assert "08/03/2026" in html and "Quá hạn" in html and "Quá hạn 2 ngày" in html


def test_staff_links_lead_to_their_own_dashboards(settings, sqlite_factory) -> None:
    """Does each staff role get a link straight to its own Voila dashboard (never JupyterLab, which only admins
    get), members none of them, and logout everyone?"""
    client, _ = seeded_client(settings, sqlite_factory)
    pages = {role: portal(client, role).text for role in ("member", "secretary", "committee", "trainer", "admin")}
    cell = f'href="/hub/user-redirect/voila/render/cell.ipynb">{t("portal.link_cell").replace("&", "&amp;")}<'
    committee_label = t("portal.link_committee").replace("&", "&amp;")
    committee = f'href="/hub/user-redirect/voila/render/committee.ipynb">{committee_label}<'
    lectures = f'href="/hub/user-redirect/voila/render/lecture.ipynb">{t("portal.link_lectures")}<'
    lab = 'href="/hub/spawn"'
    assert not any(link in pages["member"] for link in (cell, committee, lectures, lab, "user-redirect"))
    assert cell in pages["secretary"] and committee not in pages["secretary"] and lab not in pages["secretary"]
    assert committee in pages["committee"] and cell not in pages["committee"] and lab not in pages["committee"]
    assert lectures in pages["trainer"] and "hub/user-redirect/studio/" in pages["trainer"]
    assert lab not in pages["trainer"]
    assert lab in pages["admin"]
    assert all(f'href="{PREFIX}/logout"' in page and "Đăng xuất" in page for page in pages.values())


def test_member_name_is_escaped(settings, sqlite_factory) -> None:
    """Is a roster name containing markup shown as text, never run?"""
    client, _ = seeded_client(settings, sqlite_factory)
    with transaction(sqlite_factory) as session:
        rename = update(MemberRow).where(MemberRow.card_number == "A1001").values(full_name="<script>x</script>")
        session.execute(rename)
    html = portal(client, "member").text
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_page_is_light_and_gzipped(settings, sqlite_factory) -> None:
    """Is the first load far under the 300 KB budget, compressed, with nothing else to fetch before it shows, the
    one script being offline lessons' own, deferred and same-origin (its weight: tests/test_offline_pages.py)?"""
    client, _ = seeded_client(settings, sqlite_factory)
    headers = auth("secretary", Accept="text/html", **{"Accept-Encoding": "gzip"})
    response = client.get(f"{PREFIX}/courses", headers=headers)
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.content) < PAGE_BUDGET_BYTES and len(response.content) < 15 * 1024
    wire = gzip.compress(response.content)
    assert len(wire) < 4 * 1024
    html = response.text
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts[0] == '<script type="application/json" id="offline-config">', scripts
    assert len(scripts) == 2 and re.fullmatch(
        rf'<script src="{PREFIX}/static/offline\.js\?v=[0-9a-f]+" defer>', scripts[1]
    )
    assert "<link" not in html and "@import" not in html and "http" not in html


def test_day_and_date_wording() -> None:
    """Are dates dd/mm/yyyy and days-left sentences right at the edges?"""
    assert format_date(dt.date(2026, 1, 5)) == "05/01/2026"
    assert days_left_text(0) == "Hạn chót hôm nay"
    assert days_left_text(1) == "Còn 1 ngày" and days_left_text(-3) == "Quá hạn 3 ngày"
    assert days_left_text(None) == "Không có hạn"


def test_refused_member_gets_a_readable_page(settings, sqlite_factory) -> None:
    """Does an inactive member's browser get a Vietnamese explanation with a logout link, not JSON?"""
    client, _ = seeded_client(settings, sqlite_factory)
    response = client.get(f"{PREFIX}/", headers=auth("inactive", Accept="text/html"))
    assert response.status_code == 403 and t("api.inactive") in response.text and f"{PREFIX}/logout" in response.text
    out = client.get(f"{PREFIX}/logout")  # no login needed to end one; on to the hub's logout
    assert out.status_code == 302 and out.headers["location"].endswith("/hub/logout")


def test_trainers_get_a_link_to_the_studio_and_others_do_not(settings, sqlite_factory) -> None:
    """Is the studio (in the trainer's own server) offered to trainers only, through the hub's user-redirect?"""
    client, _ = seeded_client(settings, sqlite_factory)
    link = 'href="/hub/user-redirect/studio/"'
    assert link in portal(client, "trainer").text and "Phòng soạn bài giảng" in portal(client, "trainer").text
    assert link not in portal(client, "member").text and link not in portal(client, "secretary").text
