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
from diemcau.core.report import MemberStatus, build_report

COMMUNE = OrgUnit("xa-a", "Đảng bộ xã Thạch Hà", "commune", "/tinh/xa-a/")
CELL_1 = OrgUnit("cb-1", "Chi bộ thôn Đông", "cell", "/tinh/xa-a/cb-1/")
CELL_10 = OrgUnit("cb-10", "Chi bộ thôn Tây", "cell", "/tinh/xa-a/cb-10/")
ELSEWHERE = OrgUnit("cb-x", "Chi bộ xã khác", "cell", "/tinh/xa-b/cb-x/")
S = CourseStatus


def _members() -> list[MemberStatus]:
    return [
        MemberStatus("1", "Nguyễn Văn An", CELL_1, S.COMPLETED),
        MemberStatus("2", "Trần Thị Bình", CELL_1, S.COMPLETED),
        MemberStatus("3", "Lê Văn Cường", CELL_1, S.IN_PROGRESS, ("lecture:l1", "essay")),
        MemberStatus("4", "Đặng Thị Dung", CELL_10, S.NOT_STARTED, ("lecture:l1", "quiz:q1", "essay")),
        MemberStatus("5", "Hồ Văn Em", CELL_10, S.COMPLETED),
        MemberStatus("6", "Ngoài Phạm Vi", ELSEWHERE, S.OVERDUE, ("essay",)),
    ]


def _report():  # type: ignore[no-untyped-def]
    return build_report(COMMUNE, [CELL_1, CELL_10], "nq57", "Học tập Nghị quyết 57", dt.date(2027, 6, 30),
                        _members(), dt.date(2026, 11, 22))  # fmt: skip


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
    assert rows[2][5] == "xem bài giảng l1; bài kiểm tra q1; bài thu hoạch"


def test_pdf_text_keeps_vietnamese(tmp_path: Path) -> None:
    """Does the PDF's text extract back with its Vietnamese diacritics intact (đ, ư, ơ, tones)?"""
    text = PdfReader(BytesIO(render_pdf(_report()))).pages[0].extract_text()
    for expected in ("QUÁN TRIỆT NGHỊ QUYẾT", "Đảng bộ xã Thạch Hà", "Đặng Thị Dung", "Chưa bắt đầu", "30/06/2027"):
        assert expected in text


def test_pdf_page_renders_as_an_image(tmp_path: Path) -> None:
    """Does the first page rasterise (pdftoppm) into a page with ink on it, i.e. the font really drew glyphs?"""
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_pdf(_report()))
    subprocess.run(["pdftoppm", "-r", "50", "-gray", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
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
