"""What both renderers print, as rows of text: one place decides the report's wording and columns."""

from __future__ import annotations

from diemcau.core.report import MemberStatus, Missing, Report, UnitSummary
from diemcau.i18n import t


def vn_date(value) -> str:  # type: ignore[no-untyped-def]
    """dd/mm/yyyy, as Vietnamese documents write dates."""
    return value.strftime("%d/%m/%Y") if value else "—"


def header_lines(report: Report, language: str = "vi") -> list[tuple[str, str]]:
    """The label/value pairs under the title."""
    return [
        (t("report.unit", language), report.unit.name),
        (t("report.course", language), report.course_title),
        (t("report.deadline", language), vn_date(report.deadline)),
        (t("report.generated_on", language), vn_date(report.generated_on)),
    ]


SUMMARY_KEYS = (
    "col_unit",
    "col_enrolled",
    "col_completed",
    "col_percent",
    "col_in_progress",
    "col_not_started",
    "col_overdue",
)
NOT_DONE_KEYS = ("col_number", "col_card", "col_name", "col_unit", "col_status", "col_missing")


def summary_header(language: str = "vi") -> list[str]:
    return [t(f"report.{key}", language) for key in SUMMARY_KEYS]


def summary_row(summary: UnitSummary, language: str = "vi") -> list[object]:
    """One row (a sub-unit, the unit's own members, or the total) as table cells."""
    name = t("report.direct_row", language, unit=summary.unit.name) if summary.direct else summary.unit.name
    return [
        name,
        summary.enrolled,
        summary.completed,
        summary.percent,
        summary.in_progress,
        summary.not_started,
        summary.overdue,
    ]


def not_done_header(language: str = "vi") -> list[str]:
    return [t(f"report.{key}", language) for key in NOT_DONE_KEYS]


def summary_rows(report: Report, language: str = "vi") -> list[list[object]]:
    """The rows, then the total: the numbers above the total add up to it."""
    total = summary_row(report.total, language)
    total[0] = t("report.summary", language)
    return [summary_row(s, language) for s in report.rows] + [total]


def counting_rule(language: str = "vi") -> str:
    """The note under the table that says who is counted, and where."""
    return t("report.counting_rule", language)


def _missing_text(missing: tuple[Missing, ...], language: str) -> str:
    return "; ".join(t(f"report.missing_{item.kind}", language, title=item.title) for item in missing)


def not_done_row(number: int, member: MemberStatus, language: str = "vi") -> list[object]:
    """One member not yet done as table cells."""
    status = t(f"status.{member.status}", language)
    return [
        number,
        member.card_number,
        member.full_name,
        member.unit.name,
        status,
        _missing_text(member.missing, language),
    ]
