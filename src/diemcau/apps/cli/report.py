"""``diemcau report``: the official report (Báo cáo kết quả học tập, quán triệt nghị quyết) as XLSX or PDF."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from diemcau.adapters.reports.official import ReportError, official_report
from diemcau.apps.cli.common import factory_or_exit, fail
from diemcau.i18n import t


def report(
    org_unit: Annotated[str, typer.Argument(metavar="ORG_UNIT", help="Org unit code (or exact name).")],
    course: Annotated[str, typer.Argument(metavar="COURSE", help="Course id.")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx or pdf.")] = "xlsx",
    output: Annotated[Optional[Path], typer.Option(help="File to write (default: the report's own name).")] = None,  # noqa: UP007
) -> None:
    """Write the report for ORG_UNIT and COURSE; '-' as --output writes to stdout."""
    if fmt not in ("xlsx", "pdf"):
        fail(f"Unknown format {fmt!r}: use xlsx or pdf.")
    _, factory = factory_or_exit()
    chosen: Literal["xlsx", "pdf"] = "pdf" if fmt == "pdf" else "xlsx"
    try:
        data, name = official_report(factory, org_unit, course, chosen, dt.date.today())
    except ReportError as error:
        fail(t(f"report.{error.code}", "en") + f" ({org_unit if error.code == 'unknown_unit' else course})")
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(data)
        return
    target = output or Path(name)
    target.write_bytes(data)
    typer.echo(str(target))
