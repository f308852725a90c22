"""The staff home (``/staff``, and ``/`` for secretaries and committees): scoped as the completion API, light,
Vietnamese, refusing members, trainers and other cells, and no 5xx for any query; the screening API's messages."""

from __future__ import annotations

import gzip
import re

import pytest
from sqlalchemy import func, select

from diemcau.adapters.db import accounts
from diemcau.adapters.db import quizzes as quiz_store
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import MemberRow, OrgUnitRow
from diemcau.adapters.db.models_progress import ScreeningRow
from diemcau.adapters.db.progress import record_events
from diemcau.apps.api.pages.staff import PAGE_SIZE, wanted_statuses
from diemcau.core.progress import EventKind, ProgressEvent
from diemcau.core.roles import Role
from diemcau.dashboards import cell_view
from diemcau.i18n import t
from tests.apiclient import PREFIX, auth, seeded_client
from tests.quiz_support import AUTHZ_QUIZ, AUTHZ_SUBMISSION, seed_authz_quiz
from tests.transcript_fixtures import LECTURE_ID, seed_lecture

COURSE = "nq-cb-a1"  # tests/seed.py: audience cell A1 (a1001 member, a1002 its secretary); the lecture's course
HTML = {"Accept": "text/html"}
FIRST_LOAD_BUDGET = 50_000  # bytes on the wire, page and script, on a 256 kbps link (issue 14)


def world(settings, factory):  # type: ignore[no-untyped-def]
    """The small province with a ready lecture and a quiz with an essay in the cell course; a1001 watched all
    of it (done but for the essay's grade), a2001 (cell A2, outside the course's audience) nothing."""
    client, seeded = seeded_client(settings, factory)
    seed_lecture(factory)
    seed_authz_quiz(factory)
    record_events(factory, "a1001", LECTURE_ID, 600, [ProgressEvent("e1", EventKind.ENDED, 0, 600, 1)])
    return client, seeded


def page(client, role: str, path: str = "/staff", **params: str):  # type: ignore[no-untyped-def]
    response = client.get(f"{PREFIX}{path}", params=params, headers=auth(role, **HTML))
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def refused_page(client, role: str, **params: str):  # type: ignore[no-untyped-def]
    """The staff home's answer when it is not a 200 (the caller's refusal as a page)."""
    return client.get(f"{PREFIX}/staff", params=params, headers=auth(role, **HTML))


def add_members(factory, cell_code: str, count: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` more active members in the cell, with names as long as real ones."""
    with transaction(factory) as session:
        cell = session.scalar(select(OrgUnitRow).where(OrgUnitRow.code == cell_code))
        session.add_all(
            MemberRow(
                card_number=f"{cell_code}-{n:04d}",
                full_name=f"Nguyễn Thị Phương Thảo {n}",
                org_unit_id=cell.id,
                active=True,
            )
            for n in range(count)
        )


def listed(html: str) -> set[str]:
    """The card numbers in the list of members."""
    return set(re.findall(r'<li data-card="([^"]+)"', html))


def test_a_secretary_lands_on_the_staff_home_and_sees_who_is_behind(settings, sqlite_factory) -> None:
    """Does ``/`` give the secretary their staff home: their cell's standing, who is behind with what is left,
    the filters, the reminder as the cell dashboard writes it, and a link to their own courses?"""
    client, _ = world(settings, sqlite_factory)
    html = page(client, "secretary", "/", course=COURSE)  # "/" takes no filter: it shows the first course
    assert t("staff.behind") in html and t("staff.my_courses") in html and f'href="{PREFIX}/courses"' in html
    html = page(client, "secretary", course=COURSE)
    assert t("dashboard.cell_summary", done=0, total=2, percent=0) in html  # a1001, a1002 (a1003 is inactive)
    assert listed(html) == {"a1001", "a1002"}  # both behind: a1001's essay waits for its grade
    assert "a2001" not in html and "a1003" not in html and "Chi bộ thôn A2" not in html
    reminder = re.search(r'<textarea id="reminder-text"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert t("dashboard.reminder_title", unit="Chi bộ thôn A1") in reminder
    assert "Nguyễn Văn An (a1001)" in reminder
    assert 'id="copy"' in html and t("staff.copy") in html
    assert page(client, "secretary", course=COURSE, q="bình").count("<li data-card") == 1
    assert listed(page(client, "secretary", course=COURSE, status="overdue")) == set()  # no deadline: none overdue
    courses = page(client, "secretary", "/courses")
    assert t("portal.courses") in courses and "Chuyên đề chi bộ A1" in courses and f'{PREFIX}/staff"' in courses


def test_the_staff_home_reuses_the_cell_dashboards_rules(settings, sqlite_factory) -> None:
    """Is the reminder on the page exactly the cell dashboard's (one rule in one place), for the same answer of
    the completion API?"""
    client, _ = world(settings, sqlite_factory)
    answer = client.get(f"{PREFIX}/api/courses/{COURSE}/completion", headers=auth("secretary")).json()
    titles = {
        lec["id"]: lec["title"]
        for lec in client.get(f"{PREFIX}/api/lectures", params={"course": COURSE}, headers=auth("secretary")).json()
    }
    quizzes = client.get(f"{PREFIX}/api/quizzes/{COURSE}", headers=auth("secretary")).json()
    infos = {q["quiz_id"]: cell_view.QuizInfo(q["title"], q["max_score"]) for q in quizzes}
    view = cell_view.build_cell_view(answer, titles, infos, None)
    expected = cell_view.reminder_text(view, "Chi bộ thôn A1")
    html = page(client, "secretary", course=COURSE)
    shown = re.search(r'<textarea id="reminder-text"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert shown == expected.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")


@pytest.mark.parametrize(
    ("status", "q"), [("behind", ""), ("", ""), ("completed", ""), ("", "thảo 1"), ("behind", "A2")]
)
def test_a_committees_list_is_what_the_cell_dashboards_filter_keeps(settings, sqlite_factory, status, q) -> None:  # type: ignore
    """Over a commune of 134 (its rows filtered before lines are built), does each page list exactly the
    members, in order, that ``cell_view.filter_lines`` keeps from the completion API's answer?"""
    client, _ = world(settings, sqlite_factory)
    add_members(sqlite_factory, "cb-a2", 130)
    record_events(sqlite_factory, "cb-a2-0007", LECTURE_ID, 600, [ProgressEvent("e1", EventKind.ENDED, 0, 600, 1)])
    answer = client.get(f"{PREFIX}/api/courses/nq-xa-a/completion", headers=auth("committee")).json()
    view = cell_view.build_cell_view(answer, {}, {}, None)
    kept = [line.card for line in cell_view.filter_lines(view, wanted_statuses(status), q)]
    shown = []
    for number in range(1, 4):
        html = page(client, "committee", course="nq-xa-a", status=status, q=q, page=str(number))
        shown += [card for card in re.findall(r'<li data-card="([^"]+)"', html) if card not in shown]
    assert shown == kept and t("staff.matching", count=len(kept)) in html


def test_essays_waiting_are_counted_and_linked_to_grading(settings, sqlite_factory) -> None:
    """Does the secretary see one essay waiting with a link to the grading page, and none once it is graded?
    Does the committee see the count without a grading link (cell secretaries grade)?"""
    client, _ = world(settings, sqlite_factory)
    title = quiz_store.load_form(sqlite_factory, COURSE, AUTHZ_QUIZ).title
    grading = f'href="{PREFIX}/quizzes/{COURSE}/{AUTHZ_QUIZ}/grading"'
    html = page(client, "secretary", course=COURSE)
    assert t("staff.essays_waiting", title=title, count=1) in html and grading in html
    committee = page(client, "committee", course=COURSE)
    assert t("staff.essays_waiting", title=title, count=1) in committee and grading not in committee
    quiz_store.record_essay_grade(sqlite_factory, AUTHZ_SUBMISSION, "Đạt", "", "a1002")
    assert t("staff.essays_waiting", title=title, count=0) in page(client, "secretary", course=COURSE)


def test_report_links_download_both_formats_for_the_scope(settings, sqlite_factory) -> None:
    """Do the page's report links answer an XLSX and a PDF, for the committee narrowed to a cell too?"""
    client, _ = world(settings, sqlite_factory)
    for role, params in (("secretary", {}), ("committee", {"unit": "cb-a1"})):
        html = page(client, role, course=COURSE, **params)
        for fmt, media in (("xlsx", "spreadsheetml"), ("pdf", "application/pdf")):
            href = re.search(rf'href="([^"]+report\.{fmt}[^"]*)"', html).group(1).replace("&amp;", "&")
            assert "org=cb-a1" in href  # the report of the unit the page shows, named
            response = client.get(href, headers=auth(role))
            assert response.status_code == 200 and media in response.headers["content-type"] and response.content


def test_committee_sees_its_sub_units_and_drills_down(settings, sqlite_factory) -> None:
    """Does a commune committee get a summary per cell (slowest first, linked), its members behind, no
    screening form at commune level, and, narrowed to a cell, that cell's reminder but still no screening form
    (recording is the secretary's)?"""
    client, _ = world(settings, sqlite_factory)
    html = page(client, "committee", "/", course=COURSE)
    assert t("staff.subunits") in html and "Chi bộ thôn A1" in html
    html = page(client, "committee", course=COURSE)
    assert "unit=cb-a1" in html and listed(html) == {"a1001", "a1002"}
    assert 'id="screening-form"' not in html and 'id="reminder-text"' not in html
    narrowed = page(client, "committee", course=COURSE, unit="cb-a1")
    assert 'id="reminder-text"' in narrowed and 'id="screening-form"' not in narrowed and t("staff.up") in narrowed
    outside = refused_page(client, "committee", course=COURSE, unit="cb-b1")
    assert outside.status_code == 404 and t("report.unknown_unit") in outside.text


def test_a_secretary_on_the_committee_above_sees_the_commune_and_records_in_the_cell(settings, sqlite_factory) -> None:
    """With nested grants (secretary of cell A1, committee of commune A), does the page show the commune's cells,
    and narrowed to cell A1, the reminder and the screening form?"""
    client, _ = world(settings, sqlite_factory)
    accounts.grant_role(sqlite_factory, "A1002", Role.COMMITTEE, "xa-a")
    html = page(client, "secretary", course=COURSE)
    assert t("staff.scope", unit="Đảng bộ xã A") in html and 'id="subunits"' in html
    cell = page(client, "secretary", course=COURSE, unit="cb-a1")
    assert 'id="reminder-text"' in cell and 'id="screening-form"' in cell and t("staff.up") in cell


def test_another_cells_secretary_cannot_see_or_act_on_your_cell(settings, sqlite_factory) -> None:
    """Made secretary of cell A2, does a2001 see none of cell A1 on the page (not by ``unit=`` either), and is
    their screening of an A1 member refused with nothing stored?"""
    client, _ = world(settings, sqlite_factory)
    accounts.grant_role(sqlite_factory, "A2001", Role.SECRETARY, "cb-a2")
    html = page(client, "other_cell", course=COURSE)  # not their course: the page shows their first one instead
    assert listed(html) == {"a2001", "a2002"}
    assert "a1001" not in html and "Nguyễn Văn An" not in html and COURSE not in html
    refused = refused_page(client, "other_cell", course=COURSE, unit="cb-a1")
    assert refused.status_code == 404 and "Nguyễn Văn An" not in refused.text
    body = {"lecture_id": LECTURE_ID, "held_on": "2026-03-09", "members": ["a1001"]}
    response = client.post(f"{PREFIX}/api/screenings", json=body, headers=auth("other_cell"))
    assert response.status_code == 403 and "a1001" in response.json()["detail"]
    with sqlite_factory() as session:
        assert session.scalar(select(func.count()).select_from(ScreeningRow)) == 0


def test_members_trainers_and_strangers_are_refused(settings, sqlite_factory) -> None:
    """Is a member refused with a Vietnamese page, a trainer told to use the studio, and a browser without a
    login sent to log in? Do neither members nor trainers land on the staff home?"""
    client, _ = world(settings, sqlite_factory)
    for role, key in (("member", "staff.not_allowed"), ("trainer", "staff.trainer_refused")):
        response = client.get(f"{PREFIX}/staff", headers=auth(role, **HTML))
        assert response.status_code == 403 and t(key) in response.text and "<html" in response.text
        assert t("staff.behind") not in page(client, role, "/")
    anonymous = client.get(f"{PREFIX}/staff", headers=HTML)
    assert anonymous.status_code == 302 and "/hub/api/oauth2/authorize" in anonymous.headers["location"]


def test_staff_never_get_jupyterlab_but_their_dashboards(settings, sqlite_factory) -> None:
    """Does the secretary's page link the cell dashboard, the committee's the committee dashboard, neither of
    them JupyterLab (``/hub/spawn``), while the admin's staff home keeps it?"""
    client, _ = world(settings, sqlite_factory)
    secretary, committee = page(client, "secretary"), page(client, "committee")
    assert 'href="/hub/user-redirect/voila/render/cell.ipynb"' in secretary
    assert 'href="/hub/user-redirect/voila/render/committee.ipynb"' in committee
    assert "/hub/spawn" not in secretary and "/hub/spawn" not in committee
    assert 'href="/hub/spawn"' in page(client, "admin")


def test_screening_form_records_and_the_api_names_missing_fields(settings, sqlite_factory) -> None:
    """Does the API refuse a screening without lecture, date or members with a 422 whose Vietnamese message
    names each missing field (storing nothing), and record a complete one for the secretary's member?"""
    client, _ = world(settings, sqlite_factory)
    html = page(client, "secretary", course=COURSE)
    assert 'id="screening-form"' in html and f'<option value="{LECTURE_ID}">' in html
    assert 'value="a1002"' in html and t("staff.missing_lecture") in html and t("staff.missing_date") in html
    post = lambda body: client.post(f"{PREFIX}/api/screenings", json=body, headers=auth("secretary"))  # noqa: E731
    cases = [
        ({"held_on": "2026-03-09", "members": ["a1001"]}, ["lecture"]),
        ({"lecture_id": LECTURE_ID, "held_on": "", "members": ["a1001"]}, ["date"]),
        ({"lecture_id": LECTURE_ID, "held_on": None, "members": []}, ["date", "members"]),
        ({"lecture_id": " ", "members": [" "]}, ["lecture", "date", "members"]),
    ]
    for body, missing in cases:
        response = client.post(f"{PREFIX}/api/screenings", json=body, headers=auth("secretary"))
        fields = ", ".join(t(f"completion.screening_field_{name}") for name in missing)
        assert response.status_code == 422
        assert response.json()["detail"] == t("completion.screening_missing", fields=fields)
    with sqlite_factory() as session:
        assert session.scalar(select(func.count()).select_from(ScreeningRow)) == 0
    saved = post({"lecture_id": LECTURE_ID, "held_on": "2026-03-09", "place": "Nhà văn hoá", "members": ["a1002"]})
    assert saved.status_code == 201 and saved.json()["members"] == ["a1002"]
    assert "đã xem 100%" in page(client, "secretary", course=COURSE, q="a1002")  # the screening counts as watched


@pytest.mark.parametrize(
    "params",
    [
        {"course": "\x00"},
        {"unit": "\x00"},
        {"unit": "' OR 1=1 --"},
        {"unit": "../../etc"},
        {"course": "x" * 5000},
        {"page": "-1"},
        {"page": "1e9"},
        {"page": "９"},
        {"page": "99999999999"},
        {"status": "<script>"},
        {"q": "<script>alert(1)</script>"},
        {"q": "\x00\x1f"},
        {"course": COURSE, "unit": "TINH"},
        {"status": ["a", "b"]},
    ],
)
def test_hostile_query_parameters_never_get_a_server_error(settings, session_factory, params) -> None:  # type: ignore
    """Whatever the query (NUL, SQL, paths, huge, odd numbers, markup, control characters), does every staff role
    get a page below 500, with markup shown as text?"""
    client, _ = seeded_client(settings, session_factory)
    for role in ("secretary", "committee", "admin"):
        response = client.get(f"{PREFIX}/staff", params=params, headers=auth(role, **HTML))
        assert response.status_code < 500, response.text[:300]
        assert "<script>alert" not in response.text


def test_a_large_scope_is_listed_a_page_at_a_time(settings, sqlite_factory) -> None:
    """With 130 more members in cell A2 (134 behind in the commune's overdue course), does the committee see 50
    per page, three pages, and a page number past the end clamped to the last page?"""
    client, _ = world(settings, sqlite_factory)
    add_members(sqlite_factory, "cb-a2", 130)
    first = page(client, "committee", course="nq-xa-a")
    assert len(listed(first)) == PAGE_SIZE and t("staff.page_of", page=1, pages=3) in first and "page=2" in first
    last = page(client, "committee", course="nq-xa-a", page="999")
    assert t("staff.page_of", page=3, pages=3) in last and len(listed(last)) == 134 - 2 * PAGE_SIZE
    assert t("staff.matching", count=134) in last and "page=2" in last  # a link back
    assert not listed(first) & listed(last)


def test_first_load_is_light_and_runs_no_inline_script(settings, sqlite_factory) -> None:
    """For a large cell (200 more members, all behind: in the reminder and the screening form), is the
    secretary's staff home with its one script under 50 KB on the wire (gzip), with no inline script, no web
    font, nothing from another origin?"""
    client, _ = world(settings, sqlite_factory)
    add_members(sqlite_factory, "cb-a1", 200)
    response = client.get(
        f"{PREFIX}/staff",
        params={"course": COURSE},
        headers=auth("secretary", Accept="text/html", **{"Accept-Encoding": "gzip"}),
    )
    assert response.headers["content-encoding"] == "gzip"
    html = response.text
    scripts = re.findall(r"<script([^>]*)>", html)
    assert len(scripts) == 1 and 'src="/services/diemcau/static/staff.js?v=' in scripts[0]
    assert "<link" not in html and "@import" not in html and "http:" not in html and "https:" not in html
    script = client.get(re.search(r'src="([^"]+)"', scripts[0]).group(1), headers=auth("secretary"))
    wire = len(gzip.compress(response.content)) + len(gzip.compress(script.content))
    assert script.status_code == 200 and wire < FIRST_LOAD_BUDGET, wire
    assert html.count('name="members"') == 202 and len(listed(html)) == PAGE_SIZE


def test_a_communes_rows_add_up_with_its_own_members_row(settings, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """A member the roster attaches to the commune itself (its own committee member) is in no cell's row: does the
    committee's summary give them a row of their own, as the report does, so the rows add up to the page's total?"""
    client, _ = world(settings, sqlite_factory)
    seed_lecture(sqlite_factory, "lec-xa", course_id="nq-xa-a")
    with transaction(sqlite_factory) as session:
        commune = session.scalars(select(OrgUnitRow).where(OrgUnitRow.code == "xa-a")).one()
        session.add(MemberRow(card_number="X0001", full_name="Lã Văn Xã", org_unit=commune, active=True))
    html = page(client, "committee", course="nq-xa-a")
    rows = re.findall(r"<td>(\d+)/(\d+)</td>", html.split('id="subunits"', 1)[1].split("</table>", 1)[0])
    direct = html.split('id="direct-row"', 1)[1].split("</tr>", 1)[0]
    assert t("report.direct_row", unit="Đảng bộ xã A") in direct and "0/1" in direct
    total = sum(int(n) for _, n in rows)
    assert total == 5 and cell_view.done_text(0, total) in html  # cb-a1: 2 active, cb-a2: 2, xa-a: 1
