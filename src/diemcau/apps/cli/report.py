"""``diemcau report``: the official report (Báo cáo kết quả học tập, quán triệt nghị quyết) as XLSX or PDF, and
the check of a signed PDF's signature."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from diemcau.adapters.reports.official import ReportError, official_report
from diemcau.adapters.reports.signing import SigningFailed, certificate_der, verify_pdf
from diemcau.apps.cli.common import factory_or_exit, fail, settings_or_exit
from diemcau.i18n import t

app = typer.Typer(help="The official report: write it (XLSX or signed PDF), verify a signed PDF.", no_args_is_help=True)


@app.command("make")
def make(
    org_unit: Annotated[str, typer.Argument(metavar="ORG_UNIT", help="Org unit code (or exact name).")],
    course: Annotated[str, typer.Argument(metavar="COURSE", help="Course id.")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx or pdf.")] = "xlsx",
    output: Annotated[Optional[Path], typer.Option(help="File to write (default: the report's own name).")] = None,  # noqa: UP007
) -> None:
    """Write the report for ORG_UNIT and COURSE; '-' as --output writes to stdout. A PDF is signed when the unit
    has a certificate in reports.certificates_dir."""
    if fmt not in ("xlsx", "pdf"):
        fail(f"Unknown format {fmt!r}: use xlsx or pdf.")
    settings, factory = factory_or_exit()
    chosen: Literal["xlsx", "pdf"] = "pdf" if fmt == "pdf" else "xlsx"
    try:
        report = official_report(factory, org_unit, course, chosen, dt.date.today(), settings.certificates_dir)
    except ReportError as error:
        fail(t(f"report.{error.code}", "en") + f" ({org_unit if error.code == 'unknown_unit' else course})")
    if report.signature == "failed":
        typer.secho(
            "The PDF is NOT signed: its unit's certificate could not sign (see the log line above).",
            fg=typer.colors.YELLOW,
            err=True,
        )
    elif report.signature == "signed":
        typer.echo(f"Signed by {report.signer}", err=True)
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(report.data)
        return
    target = output or Path(report.name)
    target.write_bytes(report.data)
    typer.echo(str(target))


@app.command("verify")
def verify(
    pdf: Annotated[Path, typer.Argument(metavar="FILE.pdf", help="A report PDF.", exists=True, dir_okay=False)],
    trust: Annotated[
        Optional[list[Path]], typer.Option(help="Also trust this certificate (PEM or DER); repeatable.")  # noqa: UP007
    ] = None,
) -> None:
    """Check each signature of a PDF: who signed, when, whether the document is intact and wholly covered, and
    whether the signer is trusted (the certificates in reports.certificates_dir, plus --trust). Exit 0 only when
    there is a signature and every one holds."""
    from pyhanko.keys import load_cert_from_pemder

    folder = settings_or_exit().certificates_dir
    trusted = []
    for p12 in sorted(folder.glob("*.p12")) if folder.is_dir() else []:
        try:
            trusted.append(certificate_der(p12))
        except SigningFailed as failure:
            typer.secho(f"Skipping {failure}", fg=typer.colors.YELLOW, err=True)
    trusted += [load_cert_from_pemder(str(path)).dump() for path in trust or []]
    try:
        checks = verify_pdf(pdf.read_bytes(), trusted)
    except ValueError as error:
        fail(f"{pdf}: {error}")
    if not checks:
        fail(f"{pdf}: not signed")
    yes = {True: "yes", False: "NO"}
    for number, check in enumerate(checks, start=1):
        when = f"{check.signed_at:%Y-%m-%d %H:%M:%S %Z}" if check.signed_at else "unknown time"
        typer.echo(f"Signature {number}: {check.signer}, signed {when}")
        typer.echo(f"  reason: {check.reason}; unit: {check.location}")
        typer.echo(
            f"  intact: {yes[check.intact]}; covers the whole document: {yes[check.whole_document]}; "
            f"signer trusted: {yes[check.trusted]}"
        )
        typer.echo(f"  certificate SHA-256: {check.fingerprint}")
    if not all(check.holds for check in checks):
        typer.echo("NOT VALID")
        raise typer.Exit(1)
    typer.echo("VALID")
