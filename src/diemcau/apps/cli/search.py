"""``diemcau search``: search every published transcript and document, and rebuild the index.

    diemcau search "đảng viên" [--course ID] [--limit N] [--json]
    diemcau search reindex

The first form is the default command of the group: anything that is not ``reindex`` is a query (to search
for the word "reindex" itself, write ``diemcau search query reindex``). Operators see every course.
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from diemcau.apps.cli.common import command_or_exit, factory_or_exit
from diemcau.core.search_results import Hit
from diemcau.search.index import MAX_LIMIT, SearchFilters
from diemcau.search.indexer import open_index, reindex_all

DEFAULT_COMMAND = "query"
JSON_FIELDS = (
    "lecture_id",
    "title",
    "course_id",
    "kind",
    "start",
    "end",
    "text",
    "snippet",
    "link",
    "doc_name",
    "page",
    "segments",
)


class QueryByDefault(TyperGroup):
    """A group whose first argument, when it names no subcommand, is the query of the default command."""

    def parse_args(self, ctx, args):  # type: ignore[no-untyped-def]
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


app = typer.Typer(cls=QueryByDefault, help="Search transcripts and lecture documents.", no_args_is_help=True)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _line(hit: Hit) -> str:
    where = f"{hit.doc_name} p.{hit.page}" if hit.kind == "document" else f"{_clock(hit.start)}–{_clock(hit.end)}"
    return f"{hit.lecture_id}\t{where}\t{hit.title}\n    {hit.text}"


@app.command(DEFAULT_COMMAND)
def search_query(
    query: Annotated[str, typer.Argument(metavar="QUERY", help='Words, "phrases", course:/speaker:/after: filters.')],
    course: Annotated[Optional[str], typer.Option(help="Only this course (id).")] = None,  # noqa: UP007 (typer)
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="Most hits to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of hits.")] = False,
) -> None:
    """Search every published transcript and document; hits near each other in a lecture are grouped."""
    settings, _factory = factory_or_exit()
    index = open_index(settings)
    try:
        filters = SearchFilters(frozenset({course}) if course else None)
        hits = index.search(query, limit=limit, filters=filters)
    finally:
        index.close()
    if as_json:
        rows = [{key: hit.as_dict()[key] for key in JSON_FIELDS} for hit in hits]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for hit in hits:
        typer.echo(_line(hit))
    if not hits:
        typer.echo("No hits.", err=True)


@app.command("reindex")
def search_reindex() -> None:
    """Rebuild the search index from transcripts/ (published lectures only)."""
    cli = command_or_exit()
    report = reindex_all(cli.settings, cli.factory, cli.stores)
    typer.echo(f"{report.lectures} lecture(s), {report.segments} segment(s) indexed")
    if report.skipped:
        typer.echo(f"skipped (no published lecture): {', '.join(report.skipped)}", err=True)
