"""The official report as an Excel workbook: a summary sheet and a sheet of members not yet done."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from diemcau.adapters.reports import layout
from diemcau.core.report import Report
from diemcau.i18n import t

BOLD = Font(bold=True)


def render_xlsx(report: Report, language: str = "vi") -> bytes:
    """The workbook's bytes."""
    book = Workbook()
    summary = book.active
    summary.title = t("report.sheet_summary", language)
    summary.append([t("report.title", language)])
    summary["A1"].font = Font(bold=True, size=14)
    for label, value in layout.header_lines(report, language):
        summary.append([label, value])
    summary.append([])
    summary.append([t("report.by_unit", language)])
    summary.append(layout.summary_header(language))
    for row in layout.summary_rows(report, language):
        summary.append(row)
    for cell in summary[summary.max_row]:
        cell.font = BOLD
    summary.append([])
    summary.append([layout.counting_rule(language)])
    summary.column_dimensions["A"].width = 40
    not_done = book.create_sheet(t("report.sheet_not_done", language))
    not_done.append(layout.not_done_header(language))
    for cell in not_done[1]:
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True)
    for number, member in enumerate(report.not_done, start=1):
        not_done.append(layout.not_done_row(number, member, language))
    for column, width in zip("ABCDEF", (6, 16, 28, 30, 14, 40)):
        not_done.column_dimensions[column].width = width
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
