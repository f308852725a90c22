"""Completion from real records: progress, screenings and the official report, scoped by the org tree."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from openpyxl import load_workbook

from diemcau.adapters.db.completion import course_completion
from diemcau.adapters.db.progress import record_events
from diemcau.adapters.db.screenings import ScreeningRefused, record_screening
from diemcau.adapters.reports.official import ReportError, official_report
from diemcau.core.progress import EventKind, ProgressEvent
from diemcau.core.roles import Grant, Role, Viewer
from tests.seed import seed_small_province
from tests.transcript_fixtures import LECTURE_ID, seed_lecture

TODAY = dt.date(2026, 11, 22)


def _seed(factory):  # type: ignore[no-untyped-def]
    seeded = seed_small_province(factory)
    seed_lecture(factory)  # a ready 600 s lecture in course nq-cb-a1 (audience: cell A1)
    return seeded


def _statuses(factory, scopes):  # type: ignore[no-untyped-def]
    completion = course_completion(factory, "nq-cb-a1", scopes, TODAY)
    return {m.card_number: (str(m.status), m.completion.missing) for m in completion.members}


def test_watching_95_percent_completes_a_course_without_quizzes(session_factory) -> None:  # type: ignore[no-untyped-def]
    """With no quiz released, does 95 % watched complete the course, 50 % make it 'in progress', nothing 'not started'?"""
    seeded = _seed(session_factory)
    paths = seeded["paths"]
    record_events(session_factory, "a1001", LECTURE_ID, 600, [ProgressEvent("e1", EventKind.HEARTBEAT, 0, 575, 1)])
    record_events(session_factory, "a1002", LECTURE_ID, 600, [ProgressEvent("e1", EventKind.HEARTBEAT, 0, 300, 1)])
    statuses = _statuses(session_factory, [paths["cb-a1"]])
    assert statuses["a1001"] == ("completed", ())
    assert statuses["a1002"] == ("in_progress", (f"lecture:{LECTURE_ID}",))
    assert {s for card, (s, _) in statuses.items() if card not in ("a1001", "a1002")} <= {"not_started"}


def test_screening_counts_and_is_scoped_to_the_secretarys_cell(session_factory) -> None:  # type: ignore[no-untyped-def]
    """Does a screening recorded by the cell's secretary complete attendees, and is another cell's member refused?"""
    seeded = _seed(session_factory)
    paths = seeded["paths"]
    secretary = Viewer(seeded["users"]["secretary"], paths["cb-a1"], (Grant(Role.SECRETARY, paths["cb-a1"]),))
    record_screening(session_factory, secretary, LECTURE_ID, TODAY, "Nhà văn hoá thôn", ["a1001"])
    assert _statuses(session_factory, [paths["cb-a1"]])["a1001"] == ("completed", ())
    with pytest.raises(ScreeningRefused) as refused:
        record_screening(session_factory, secretary, LECTURE_ID, TODAY, "", ["a1001", "b1001"])
    assert refused.value.code == "screening_members_outside" and "b1001" in refused.value.params["cards"]
    completion = course_completion(session_factory, "nq-cb-a1", [paths["cb-a1"]], TODAY)
    assert [m.card_number for m in completion.members if m.screened] == ["a1001"]  # nothing half-stored


def test_scope_limits_who_is_counted(session_factory) -> None:  # type: ignore[no-untyped-def]
    """Does a scope outside the course audience count nobody, and an overdue deadline mark the unfinished?"""
    seeded = _seed(session_factory)
    assert course_completion(session_factory, "nq-cb-a1", [seeded["paths"]["cb-b1"]], TODAY).members == ()
    late = course_completion(session_factory, "nq-cb-a1", [seeded["paths"]["cb-a1"]], dt.date(2099, 1, 1))
    deadline = late.deadline
    expected = "overdue" if deadline is not None else "not_started"
    assert {str(m.status) for m in late.members} == {expected}


def test_official_report_lists_who_is_not_done(sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Does the XLSX report for the commune list each member not yet done, and refuse an unknown unit?"""
    _seed(sqlite_factory)
    record_events(sqlite_factory, "a1001", LECTURE_ID, 600, [ProgressEvent("e1", EventKind.ENDED, 0, 600, 1)])
    report = official_report(sqlite_factory, "xa-a", "nq-cb-a1", "xlsx", TODAY)
    assert report.name == "bao-cao_xa-a_nq-cb-a1.xlsx"
    not_done = load_workbook(BytesIO(report.data)).worksheets[1]
    cards = [row[1] for row in not_done.iter_rows(min_row=2, values_only=True)]
    assert "a1001" not in cards and cards  # the one who finished is not listed, others are
    with pytest.raises(ReportError):
        official_report(sqlite_factory, "khong-co", "nq-cb-a1", "pdf", TODAY)


def test_report_rows_add_up_and_name_what_is_missing(sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """For a commune with a member attached to the commune itself and a secretary and a committee member who are
    enrolled members, do the report's rows add up to its total, and does 'Còn thiếu' name the lecture's title?"""
    from diemcau.adapters.db.engine import transaction
    from diemcau.adapters.db.models import MemberRow, OrgUnitRow

    _seed(sqlite_factory)
    seed_lecture(sqlite_factory, "nq-xa-a-l1", course_id="nq-xa-a", title="Đột phá khoa học, công nghệ")
    with transaction(sqlite_factory) as session:
        commune = session.query(OrgUnitRow).filter_by(code="xa-a").one()
        session.add(MemberRow(card_number="X0001", full_name="Cao Văn Khánh", org_unit=commune, active=True))
    data = official_report(sqlite_factory, "xa-a", "nq-xa-a", "xlsx", TODAY).data
    summary, not_done = load_workbook(BytesIO(data)).worksheets
    values = [[c for c in row if c is not None] for row in summary.iter_rows(values_only=True)]
    table = values[values.index(["Kết quả theo đơn vị trực thuộc"]) + 2 :]
    total = next(row for row in table if row[0] == "Tổng hợp")
    rows = {row[0]: row[1] for row in table[: table.index(total)]}
    # cb-a1: the member and the secretary (the inactive member is not enrolled); cb-a2: a member and the committee
    # member; the commune itself: one. Trainer and admin (in xa-b) are outside the course's audience.
    assert rows == {"Chi bộ thôn A1": 2, "Chi bộ thôn A2": 2, "Đảng viên thuộc trực tiếp Đảng bộ xã A": 1}
    assert total[1] == sum(rows.values()) == 5
    missing = {row[1]: row[5] for row in not_done.iter_rows(min_row=2, values_only=True)}
    assert missing["x0001"] == "xem bài giảng «Đột phá khoa học, công nghệ»"


def test_report_on_a_course_with_nothing_published_yet(sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Does the report on a course with no lecture, quiz or essay yet render (it used to fail on the 'content'
    condition, which had no wording) and say what is missing in words?"""
    _seed(sqlite_factory)
    data = official_report(sqlite_factory, "xa-a", "nq-tinh", "xlsx", TODAY).data
    missing = {row[5] for row in load_workbook(BytesIO(data)).worksheets[1].iter_rows(min_row=2, values_only=True)}
    assert missing == {"chương trình chưa có nội dung"}
    assert official_report(sqlite_factory, "xa-a", "nq-tinh", "pdf", TODAY).data.startswith(b"%PDF")


def test_members_own_course_status_is_the_dashboards(settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    """Does a member who watched the lecture see 'completed' on their own course list, as the dashboard says,
    while a cell-mate who watched nothing still sees 'not started'?"""
    from tests.apiclient import PREFIX, auth, seeded_client
    from tests.seed import TODAY as SEED_TODAY

    client, seeded = seeded_client(settings, session_factory)
    seed_lecture(session_factory)
    record_events(session_factory, "a1001", LECTURE_ID, 600, [ProgressEvent("e1", EventKind.HEARTBEAT, 0, 590, 1)])
    dashboard = course_completion(session_factory, "nq-cb-a1", [seeded["paths"]["cb-a1"]], SEED_TODAY)
    assert {m.card_number: str(m.status) for m in dashboard.members}["a1001"] == "completed"

    def own_status(role: str) -> str:
        courses = client.get(f"{PREFIX}/api/courses", headers=auth(role)).json()
        return next(c["status"] for c in courses if c["id"] == "nq-cb-a1")

    assert own_status("member") == "completed"
    assert own_status("secretary") == "not_started"
    portal = client.get(f"{PREFIX}/", headers=auth("member")).text
    entry = portal.split("Chuyên đề chi bộ A1", 1)[1].split("</li>", 1)[0]
    assert "Hoàn thành" in entry and "Chưa bắt đầu" not in entry


def test_after_the_deadline_the_portal_says_overdue_unless_done(settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    """Past the course's deadline, is a member who finished still *hoàn thành* on their own portal, while one who
    watched half and one who watched nothing are *quá hạn*, each with the days overdue?"""
    from diemcau.i18n import t
    from tests.apiclient import PREFIX, auth, seeded_client

    client, _ = seeded_client(settings, session_factory)  # nq-xa-a: audience commune A, deadline 2 days ago
    seed_lecture(session_factory, "lec-xa", course_id="nq-xa-a")
    record_events(session_factory, "a1001", "lec-xa", 600, [ProgressEvent("e1", EventKind.HEARTBEAT, 0, 600, 1)])
    record_events(session_factory, "a2001", "lec-xa", 600, [ProgressEvent("e1", EventKind.HEARTBEAT, 0, 300, 1)])

    def entry(role: str) -> str:
        portal = client.get(f"{PREFIX}/courses", headers=auth(role))  # a secretary lands on the staff home
        assert portal.status_code == 200
        return portal.text.split("Nghị quyết Đảng bộ xã A", 1)[1].split("</li>", 1)[0]

    done, half, idle = entry("member"), entry("other_cell"), entry("secretary")
    assert t("status.completed") in done and t("status.overdue") not in done
    for late in (half, idle):
        assert t("status.overdue") in late and t("portal.days_overdue", days=2) in late
    api = {c["id"]: c["status"] for c in client.get(f"{PREFIX}/api/courses", headers=auth("other_cell")).json()}
    assert api["nq-xa-a"] == "overdue"
