"""The official report: built from derived statuses, rendered to XLSX and PDF, and read back."""

from __future__ import annotations

import datetime as dt
import subprocess
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook
from pypdf import PdfReader

from diemcau.adapters.reports.pdf import render_pdf
from diemcau.adapters.reports.xlsx import render_xlsx
from diemcau.core.course import CourseStatus
from diemcau.core.orgtree import OrgUnit
from diemcau.core.report import MemberStatus, build_report, name_missing

COMMUNE = OrgUnit("xa-a", "Đảng bộ xã Thạch Hà", "commune", "/tinh/xa-a/")
CELL_1 = OrgUnit("cb-1", "Chi bộ thôn Đông", "cell", "/tinh/xa-a/cb-1/")
CELL_10 = OrgUnit("cb-10", "Chi bộ thôn Tây", "cell", "/tinh/xa-a/cb-10/")
ELSEWHERE = OrgUnit("cb-x", "Chi bộ xã khác", "cell", "/tinh/xa-b/cb-x/")
S = CourseStatus
TITLES = {"lecture:l1": "Đột phá khoa học, công nghệ", "quiz:q1": "Kiểm tra Nghị quyết 57"}


def _missing(*items: str):  # type: ignore[no-untyped-def]
    return name_missing(items, TITLES)


def _members() -> list[MemberStatus]:
    return [
        MemberStatus("1", "Nguyễn Văn An", CELL_1, S.COMPLETED),
        MemberStatus("2", "Trần Thị Bình", CELL_1, S.COMPLETED),
        MemberStatus("3", "Lê Văn Cường", CELL_1, S.IN_PROGRESS, _missing("lecture:l1", "essay")),
        MemberStatus("4", "Đặng Thị Dung", CELL_10, S.NOT_STARTED, _missing("lecture:l1", "quiz:q1", "essay")),
        MemberStatus("5", "Hồ Văn Em", CELL_10, S.COMPLETED),
        MemberStatus("6", "Ngoài Phạm Vi", ELSEWHERE, S.OVERDUE, _missing("essay")),
    ]


def _report():  # type: ignore[no-untyped-def]
    return build_report(
        COMMUNE,
        [CELL_1, CELL_10],
        "nq57",
        "Học tập Nghị quyết 57",
        dt.date(2027, 6, 30),
        _members(),
        dt.date(2026, 11, 22),
    )


def test_totals_and_sub_units_slowest_first() -> None:
    """Are totals counted over the subtree only, and sub-units sorted slowest first with percentages?"""
    report = _report()
    assert (report.total.enrolled, report.total.completed, report.total.percent) == (5, 3, 60.0)
    assert [(s.unit.code, s.percent) for s in report.sub_units] == [("cb-10", 50.0), ("cb-1", 66.7)]
    assert [m.card_number for m in report.not_done] == ["3", "4"]  # the other commune's member is out


def test_xlsx_parses_back_with_vietnamese_text() -> None:
    """Does the workbook read back with the title, each sub-unit's numbers and the not-done list?"""
    book = load_workbook(BytesIO(render_xlsx(_report())))
    summary, not_done = book.worksheets
    values = [[c for c in row if c is not None] for row in summary.iter_rows(values_only=True)]
    assert values[0] == ["BÁO CÁO KẾT QUẢ HỌC TẬP, QUÁN TRIỆT NGHỊ QUYẾT"]
    assert ["Chi bộ thôn Tây", 2, 1, 50, 0, 1, 0] in values
    assert ["Tổng hợp", 5, 3, 60, 1, 1, 0] in values
    rows = list(not_done.iter_rows(values_only=True))
    assert rows[0][:3] == ("STT", "Số thẻ đảng viên", "Họ và tên")
    assert rows[2][:5] == (2, "4", "Đặng Thị Dung", "Chi bộ thôn Tây", "Chưa bắt đầu")
    assert rows[2][5] == (
        "xem bài giảng «Đột phá khoa học, công nghệ»; bài kiểm tra «Kiểm tra Nghị quyết 57»; bài thu hoạch"
    )


def test_pdf_text_keeps_vietnamese(tmp_path: Path) -> None:
    """Does the PDF's text extract back with its Vietnamese diacritics intact (đ, ư, ơ, tones)?"""
    text = PdfReader(BytesIO(render_pdf(_report()))).pages[0].extract_text()
    for expected in ("QUÁN TRIỆT NGHỊ QUYẾT", "Đảng bộ xã Thạch Hà", "Đặng Thị Dung", "Chưa bắt đầu", "30/06/2027"):
        assert expected in text


def test_pdf_page_renders_as_an_image(tmp_path: Path) -> None:
    """Does the first page rasterise (pdftoppm) into a page with ink on it, i.e. the font really drew glyphs?"""
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_pdf(_report()))
    subprocess.run(
        ["pdftoppm", "-r", "50", "-gray", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    page = next(tmp_path.glob("page*.pgm")).read_bytes()
    width, height = (int(v) for v in page.split(b"\n")[1].split())
    pixels = page[-width * height :]
    dark = sum(1 for value in pixels if value < 128)
    assert width < height  # A4 portrait
    assert 0.005 < dark / len(pixels) < 0.5


def test_everyone_done_says_so() -> None:
    """When every member is done, does the PDF say so instead of an empty table?"""
    done = [m for m in _members() if m.status == S.COMPLETED]
    report = build_report(COMMUNE, [CELL_1, CELL_10], "nq57", "NQ", None, done, dt.date(2026, 11, 22))
    assert "Tất cả đảng viên đã hoàn thành." in PdfReader(BytesIO(render_pdf(report))).pages[0].extract_text()


# A commune whose committee member is attached to the commune itself, whose cell secretary is an enrolled member,
# and a member listed twice (a roster mistake): every card must be counted exactly once.
COMMITTEE_MEMBER = MemberStatus("7", "Cao Văn Khánh", COMMUNE, S.NOT_STARTED, _missing("lecture:l1"))
SECRETARY = MemberStatus("8", "Bí Thư Chi Bộ", CELL_1, S.IN_PROGRESS, _missing("essay"))


def _counted_report():  # type: ignore[no-untyped-def]
    members = [*_members(), COMMITTEE_MEMBER, SECRETARY, _members()[0]]
    return build_report(COMMUNE, [CELL_1, CELL_10], "nq57", "NQ", None, members, dt.date(2026, 11, 22))


def test_rows_add_up_to_the_total_column_by_column() -> None:
    """With a member attached to the commune itself, a secretary who is a member and a card listed twice, do the
    rows add up to the total in every column, each card counted in exactly one row?"""
    report = _counted_report()
    columns = ("enrolled", "completed", "in_progress", "not_started", "overdue")
    for column in columns:
        assert sum(getattr(row, column) for row in report.rows) == getattr(report.total, column), column
    assert report.total.enrolled == 7  # 5 in the cells, the committee member, the secretary; the duplicate once
    assert report.direct is not None and (report.direct.enrolled, report.direct.direct) == (1, True)
    by_unit = {row.unit.code: row.enrolled for row in report.sub_units}
    assert by_unit == {"cb-1": 4, "cb-10": 2}  # the secretary counts in their cell, like anyone else
    assert [m.card_number for m in report.not_done].count("7") == 1


def test_a_member_in_an_unlisted_sub_unit_still_has_a_row() -> None:
    """If a member's cell is missing from the children given, is the member still counted in a row of its own?"""
    deep = OrgUnit("cb-9", "Chi bộ thôn Chín", "cell", "/tinh/xa-a/cb-9/")
    members = [*_members(), MemberStatus("9", "Người Mới", deep, S.COMPLETED)]
    report = build_report(COMMUNE, [CELL_1, CELL_10], "nq57", "NQ", None, members, dt.date(2026, 11, 22))
    assert sum(row.enrolled for row in report.rows) == report.total.enrolled == 6
    assert "Chi bộ thôn Chín" in [row.unit.name for row in report.rows]


def test_both_formats_show_the_own_members_row_the_rule_and_titles() -> None:
    """Do the XLSX and the PDF print the row of members attached to the commune, rows summing to the total, the
    counting rule, and titles (never ids) in 'Còn thiếu'?"""
    report = _counted_report()
    summary, not_done = load_workbook(BytesIO(render_xlsx(report))).worksheets
    values = [[c for c in row if c is not None] for row in summary.iter_rows(values_only=True)]
    assert ["Đảng viên thuộc trực tiếp Đảng bộ xã Thạch Hà", 1, 0, 0, 0, 1, 0] in values
    table = values[values.index(["Kết quả theo đơn vị trực thuộc"]) + 2 :]
    total = next(row for row in table if row[0] == "Tổng hợp")
    rows = table[: table.index(total)]
    assert [sum(row[i] for row in rows) for i in (1, 2, 4, 5, 6)] == [total[i] for i in (1, 2, 4, 5, 6)]
    assert any(str(row[0]).startswith("Cách tính: mỗi đảng viên") for row in values if row)
    missing = [row[5] for row in not_done.iter_rows(min_row=2, values_only=True)]
    assert "xem bài giảng «Đột phá khoa học, công nghệ»" in missing
    assert not any("l1" in text.replace("«", " ").split() for text in missing)
    text = " ".join(PdfReader(BytesIO(render_pdf(report))).pages[0].extract_text().split())
    expected_texts = (
        "Đảng viên thuộc trực tiếp Đảng bộ xã Thạch Hà",
        "Cách tính: mỗi đảng viên",
        "Kiểm tra Nghị quyết 57",
    )
    for expected in expected_texts:
        assert expected in text
    assert "lecture:" not in text and "quiz:" not in text
