"""The official report as a PDF, in a TrueType font that renders Vietnamese (DejaVu, from Debian)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from diemcau.adapters.reports import layout
from diemcau.core.report import Report
from diemcau.i18n import t

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
SUMMARY_WIDTHS = (60, 20, 22, 18, 18, 22, 18)
NOT_DONE_WIDTHS = (10, 22, 38, 36, 22, 50)  # "Còn thiếu" names lectures and quizzes: the widest


class ReportFontMissing(RuntimeError):
    """No Vietnamese-capable font is installed."""


def find_font(name: str = "DejaVuSans.ttf") -> Path:
    """The font file, or an instruction to install it."""
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return folder / name
    raise ReportFontMissing(f"{name} not found: install Debian's fonts-dejavu-core (scripts/ensure_system.sh does)")


def _table(pdf: FPDF, header: list[str], rows: list[list[object]], widths: tuple[int, ...]) -> None:
    pdf.set_font("body", "B", 8)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=5) as table:
        table.row(header)
        pdf.set_font("body", "", 8)
        for values in rows:
            table.row([str(v) for v in values])


def render_pdf(report: Report, language: str = "vi") -> bytes:
    """The PDF's bytes (A4 portrait)."""
    pdf = FPDF(format="A4")
    pdf.add_font("body", "", str(find_font()))
    pdf.add_font("body", "B", str(find_font("DejaVuSans-Bold.ttf")))
    pdf.set_title(t("report.title", language))
    pdf.add_page()
    pdf.set_font("body", "B", 13)
    pdf.multi_cell(0, 8, t("report.title", language), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", "", 10)
    for label, value in layout.header_lines(report, language):
        pdf.multi_cell(0, 6, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("body", "B", 11)
    pdf.cell(0, 7, t("report.by_unit", language), new_x="LMARGIN", new_y="NEXT")
    _table(pdf, layout.summary_header(language), layout.summary_rows(report, language), SUMMARY_WIDTHS)
    pdf.set_font("body", "", 8)
    pdf.ln(1)
    pdf.multi_cell(0, 4, layout.counting_rule(language), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("body", "B", 11)
    pdf.cell(0, 7, t("report.not_done", language), new_x="LMARGIN", new_y="NEXT")
    if report.not_done:
        rows = [layout.not_done_row(n, m, language) for n, m in enumerate(report.not_done, start=1)]
        _table(pdf, layout.not_done_header(language), rows, NOT_DONE_WIDTHS)
    else:
        pdf.set_font("body", "", 10)
        pdf.cell(0, 6, t("report.nobody_left", language), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
