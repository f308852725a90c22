"""What both renderers print, as rows of text: one place decides the report's wording and columns."""

from __future__ import annotations

from diemcau.core.report import MemberStatus, Report, UnitSummary
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


SUMMARY_KEYS = ("col_unit", "col_enrolled", "col_completed", "col_percent", "col_in_progress", "col_not_started",
                "col_overdue")  # fmt: skip
NOT_DONE_KEYS = ("col_number", "col_card", "col_name", "col_unit", "col_status", "col_missing")


def summary_header(language: str = "vi") -> list[str]:
    return [t(f"report.{key}", language) for key in SUMMARY_KEYS]


def summary_row(summary: UnitSummary) -> list[object]:
    """One sub-unit (or the total) as table cells."""
    return [summary.unit.name, summary.enrolled, summary.completed, summary.percent, summary.in_progress,
            summary.not_started, summary.overdue]  # fmt: skip


def not_done_header(language: str = "vi") -> list[str]:
    return [t(f"report.{key}", language) for key in NOT_DONE_KEYS]


def _missing_text(missing: tuple[str, ...], language: str) -> str:
    parts = []
    for item in missing:
        kind, _, ident = item.partition(":")
        parts.append(t(f"report.missing_{kind}", language, id=ident) if ident else t(f"report.missing_{kind}", language))
    return "; ".join(parts)


def not_done_row(number: int, member: MemberStatus, language: str = "vi") -> list[object]:
    """One member not yet done as table cells."""
    status = t(f"status.{member.status}", language)
    return [number, member.card_number, member.full_name, member.unit.name, status, _missing_text(member.missing, language)]
