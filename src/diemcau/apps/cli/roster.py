"""``diemcau roster``: import members from the files secretaries and committees export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from diemcau.adapters.db.roster_store import RosterImportError, import_roster, render_errors
from diemcau.apps.cli.common import factory_or_exit, fail

app = typer.Typer(help="Import the member roster.", no_args_is_help=True)


@app.command("import")
def roster_import(
    path: Path,
    deactivate_missing: Annotated[bool, typer.Option(help="Deactivate active members absent from the file.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Check and report, change nothing.")] = False,
) -> None:
    """Import members from a CSV or XLSX roster with Vietnamese headers; all rows or none."""
    _, factory = factory_or_exit()
    try:
        report = import_roster(factory, path, deactivate_missing=deactivate_missing, dry_run=dry_run)
    except RosterImportError as error:
        fail("\n".join(["Nothing was imported:", *render_errors(error.errors)]))
    typer.echo(str(report))
