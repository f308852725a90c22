"""The official report for an org unit and a course, from the derived completion, in XLSX or PDF (signed when
the unit has a certificate, ``adapters.reports.signing``)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.completion import CourseCompletion, course_completion
from diemcau.adapters.db.orgs import find_unit, list_units, to_org_unit
from diemcau.adapters.reports.pdf import render_pdf
from diemcau.adapters.reports.signing import SigningFailed, certificate_path, sign_pdf
from diemcau.adapters.reports.xlsx import render_xlsx
from diemcau.core.orgtree import OrgUnit
from diemcau.core.report import MemberStatus, Report, build_report, name_missing

log = logging.getLogger(__name__)

Format = Literal["xlsx", "pdf"]
Signature = Literal["signed", "unsigned", "failed"]
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


class ReportError(LookupError):
    """The org unit or the course does not exist; ``code`` is a catalogue key under ``report.``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ReportFile:
    """A rendered report: its bytes, a file name like ``bao-cao_xa-a_nq57.pdf``, and whether it is signed
    (``failed``: the unit has a certificate that could not sign; the operator's log says why)."""

    data: bytes
    name: str
    signature: Signature = "unsigned"
    signer: str = ""


def report_of(unit: OrgUnit, children: list[OrgUnit], completion: CourseCompletion, today: dt.date) -> Report:
    """The report model from a course's completion within ``unit``."""
    members = [
        MemberStatus(
            m.card_number, m.full_name, m.unit, m.status, name_missing(m.completion.missing, completion.titles)
        )
        for m in completion.members
    ]
    return build_report(unit, children, completion.course_id, completion.title, completion.deadline, members, today)


def _signed(data: bytes, name: str, unit: OrgUnit, certificates_dir: Path | None) -> ReportFile:
    p12 = certificate_path(certificates_dir, unit.code) if certificates_dir else None
    if p12 is None:
        return ReportFile(data, name)
    try:
        signed, signer = sign_pdf(data, p12, unit.name, dt.datetime.now(dt.UTC))
    except SigningFailed as failure:
        log.error("Report %s left unsigned: %s", name, failure)
        return ReportFile(data, name, "failed")
    return ReportFile(signed, name, "signed", signer)


def official_report(
    factory: sessionmaker[Session],
    org_code: str,
    course_id: str,
    fmt: Format,
    today: dt.date,
    certificates_dir: Path | None = None,
) -> ReportFile:
    """The report; a PDF is signed with ``<certificates_dir>/<unit code>.p12`` when that file exists."""
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
    name = f"bao-cao_{unit.code}_{course_id}.{fmt}"
    if fmt == "xlsx":
        return ReportFile(render_xlsx(report), name)
    return _signed(render_pdf(report), name, unit, certificates_dir)
