"""``diemcau org``: the organisation tree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.orgs import OrgTreeError, list_units, load_org_tree
from diemcau.apps.cli.common import factory_or_exit, fail

app = typer.Typer(help="The organisation tree.", no_args_is_help=True)


@app.command("load")
def org_load(path: Path) -> None:
    """Load or update the org tree from a YAML file (any depth; idempotent)."""
    _, factory = factory_or_exit()
    try:
        report = load_org_tree(factory, path)
    except OrgTreeError as error:
        fail(str(error))
    typer.echo(str(report))


@app.command("list")
def org_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the org tree."""
    _, factory = factory_or_exit()
    with transaction(factory) as session:
        units = list_units(session)
    if as_json:
        typer.echo(json.dumps([u.__dict__ for u in units], ensure_ascii=False, indent=2))
        return
    for unit in units:
        typer.echo(f"{'  ' * (unit.depth - 1)}{unit.code}  {unit.name}")
