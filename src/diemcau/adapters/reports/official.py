"""The official report for an org unit and a course, from the derived completion, in XLSX or PDF."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.completion import CourseCompletion, course_completion
from diemcau.adapters.db.orgs import find_unit, list_units, to_org_unit
from diemcau.adapters.reports.pdf import render_pdf
from diemcau.adapters.reports.xlsx import render_xlsx
from diemcau.core.orgtree import OrgUnit
from diemcau.core.report import MemberStatus, Report, build_report, name_missing

Format = Literal["xlsx", "pdf"]
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


class ReportError(LookupError):
    """The org unit or the course does not exist; ``code`` is a catalogue key under ``report.``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def report_of(unit: OrgUnit, children: list[OrgUnit], completion: CourseCompletion, today: dt.date) -> Report:
    """The report model from a course's completion within ``unit``."""
    members = [MemberStatus(m.card_number, m.full_name, m.unit, m.status,
                            name_missing(m.completion.missing, completion.titles))
               for m in completion.members]  # fmt: skip
    return build_report(unit, children, completion.course_id, completion.title, completion.deadline, members, today)


def official_report(
    factory: sessionmaker[Session], org_code: str, course_id: str, fmt: Format, today: dt.date
) -> tuple[bytes, str]:
    """The report's bytes and a file name like ``bao-cao_xa-a_nq57.xlsx``."""
    with factory() as session:
        row = find_unit(session, org_code)
        if row is None:
            raise ReportError("unknown_unit")
        unit = to_org_unit(row)
        children = [u for u in list_units(session, unit.path) if u.parent_path == unit.path]
    completion = course_completion(factory, course_id, [unit.path], today)
    if completion is None:
        raise ReportError("unknown_course")
    report = report_of(unit, children, completion, today)
    data = render_xlsx(report) if fmt == "xlsx" else render_pdf(report)
    return data, f"bao-cao_{unit.code}_{course_id}.{fmt}"
