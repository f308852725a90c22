"""``diemcau lecture``: publish a lecture from a file or a URL, and follow its ingest.

Errors about the lecture itself (not media, too long ...) are the trainer's to fix, so they come from the
Vietnamese catalogue; the rest of the output is for operators.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Annotated

import typer

from diemcau.adapters.db.lecture_reads import LectureRecord, load_lecture, load_lectures
from diemcau.adapters.db.lectures import PublishRequest
from diemcau.apps.cli.common import Command, command_or_exit, factory_or_exit, fail, queue_or_exit
from diemcau.core.lecture import LectureStatus
from diemcau.i18n import t
from diemcau.jobs.context import install
from diemcau.jobs.publish import Published, PublishError, publish, wait_for
from diemcau.media.add_opus import add_opus
from diemcau.media.errors import MediaError
from diemcau.media.package import read_manifest, rendition_summary

app = typer.Typer(help="Lectures: publish from a file or URL, follow their processing.", no_args_is_help=True)


def record_json(record: LectureRecord) -> dict:
    """A lecture as JSON-ready data."""
    data = dataclasses.asdict(record)
    data["created_at"] = record.created_at.isoformat() if record.created_at else None
    return data


@app.command("publish")
def lecture_publish(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="A media file, or a URL (any site yt-dlp supports).")],
    course: Annotated[str, typer.Option(help="Course id the lecture belongs to.")],
    title: Annotated[str, typer.Option(help="Lecture title, shown to members.")],
    speaker: Annotated[str, typer.Option(help="Who gives the talk.")] = "",
    resolution: Annotated[str, typer.Option(help="The resolution (nghị quyết) the lecture covers.")] = "",
    no_transcribe: Annotated[bool, typer.Option("--no-transcribe", help="Do not transcribe it.")] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Block until ready (runs the jobs here if no worker is).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End with a JSON line: id, status ...")] = False,
) -> None:
    """Publish a lecture; prints its id. Bad media is refused with the reason, leaving nothing behind."""
    cli = command_or_exit()
    queue_or_exit(cli.settings)
    install(cli.settings)  # the jobs run here by --wait (no worker) use these settings
    request = PublishRequest(source, course, title, speaker, resolution, not no_transcribe, "cli")
    try:
        published = publish(cli.settings, cli.factory, cli.stores.media, request)
    except PublishError as error:
        _refused(t(f"media.{error.code}", **error.params), as_json)
    except MediaError as error:
        _refused(error.message(), as_json)
    record = _finish(cli, published, wait)
    if as_json:
        typer.echo(json.dumps(record_json(record) | {"existing": published.existing}, ensure_ascii=False))
    else:
        typer.echo(published.lecture_id)
    if record.status == LectureStatus.FAILED:
        typer.secho(record.error, fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


def _refused(message: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"id": None, "status": "failed", "error": message}, ensure_ascii=False))
    fail(message)


def _finish(cli: Command, published: Published, wait: bool) -> LectureRecord:
    if not wait:
        record = load_lecture(cli.factory, published.lecture_id, pending=True)
        assert record is not None
        return record
    with typer.progressbar(length=1000, label="ingest", file=sys.stderr, show_percent=True) as bar:
        shown = [0]

        def on_progress(record: LectureRecord) -> None:
            bar.label = f"{record.stage or record.status:<18}"
            target = int(record.progress * 10)
            if target > shown[0]:
                bar.update(target - shown[0])
                shown[0] = target

        record = wait_for(cli.settings, cli.factory, cli.stores, published.lecture_id, on_progress)
        if record.status == LectureStatus.READY:
            bar.update(1000 - shown[0])
    return record


@app.command("list")
def lecture_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List lectures (and publishes still being fetched, or that failed) with their status and job progress."""
    _, factory = factory_or_exit()
    records = load_lectures(factory, pending=True, failed=True)
    if as_json:
        typer.echo(json.dumps([record_json(r) for r in records], ensure_ascii=False, indent=2))
        return
    for r in records:
        progress = f"{r.progress:5.1f}% {r.stage}" if r.status == LectureStatus.PROCESSING else ""
        typer.echo(f"{r.id}\t{r.status}\t{r.course_id}\t{r.title}\t{progress}".rstrip())


@app.command("show")
def lecture_show(
    lecture_id: Annotated[str, typer.Argument(metavar="ID")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one lecture: status, job stage and progress, media (each rendition's codec, kbps, bytes), error."""
    command = command_or_exit()
    record = load_lecture(command.factory, lecture_id, pending=True)
    if record is None:
        fail(f"No lecture {lecture_id!r}.")
        return
    data = record_json(record)
    manifest = read_manifest(command.stores.media, record.sha256) if record.sha256 else None
    data["renditions"] = rendition_summary(manifest) if manifest else []
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for key, value in data.items():
        if value not in ("", None, []):
            typer.echo(f"{key}: {value}" if key != "renditions" else "renditions:")
    for r in data["renditions"]:
        typer.echo(f"  {r['name']}\t{r['codec']}\t{r['kbps']:g} kbps\t{r['bytes']} bytes")


@app.command("add-opus")
def lecture_add_opus(
    lecture_ids: Annotated[
        list[str] | None, typer.Argument(metavar="[ID]...", help="Lectures to add it to (default: every ready one).")
    ] = None,
) -> None:
    """Add the Opus Chỉ nghe rendition to lectures published before it (each package once; safe to run again).

    Encodes from each package's audio file, then publishes the rendition and the new manifest (docs/media.md):
    members' players choose it within perf.lecture_seconds. Exits 1 if any package failed, after trying all."""
    command = command_or_exit()
    ready = [r for r in load_lectures(command.factory) if r.status == LectureStatus.READY and r.sha256]
    unknown = sorted(set(lecture_ids or ()) - {r.id for r in ready})
    if unknown:
        fail(f"No ready lecture {', '.join(map(repr, unknown))}.")
    chosen = [r for r in ready if not lecture_ids or r.id in lecture_ids]
    packages: dict[str, list[str]] = {}
    for record in chosen:
        packages.setdefault(record.sha256, []).append(record.id)
    failed = 0
    for sha256, ids in packages.items():
        named = f"{sha256[:12]} ({', '.join(ids)})"
        try:
            added = add_opus(command.stores.media, sha256)
        except MediaError as error:
            failed += 1
            typer.echo(f"{named}: {error.message('en')}", err=True)
            continue
        if added.rendition is None:
            typer.echo(f"{named}: has Opus already")
        else:
            kbps = added.rendition.average_bandwidth / 1000
            typer.echo(f"{named}: Opus added, {kbps:.1f} kbps, {added.rendition.bytes} bytes")
    if failed:
        fail(f"{failed} of {len(packages)} packages could not get Opus (above).")
