"""``diemcau transcript``: import captions as a transcript, export a transcript, list its corrections, undo one.

Caption and correction errors come from the Vietnamese catalogue (trainers run these commands too).
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from diemcau.adapters.transcript_edits import CorrectedTranscriptError, edit_history, revert_edit
from diemcau.adapters.transcript_import import error_message, import_captions, lecture_exists
from diemcau.adapters.transcript_store import load_transcript
from diemcau.apps.cli.common import command_or_exit, factory_or_exit, fail
from diemcau.core.captions import CaptionError, render_srt, render_txt, render_vtt
from diemcau.core.corrections import CorrectionError
from diemcau.core.transcript_json import transcript_to_dict
from diemcau.i18n import t
from diemcau.search.content import content_changed

app = typer.Typer(
    help="Lecture transcripts: caption import and export, correction history and undo.", no_args_is_help=True
)


class ExportFormat(str, Enum):
    vtt = "vtt"
    srt = "srt"
    txt = "txt"
    json = "json"


_RENDER = {
    ExportFormat.vtt: render_vtt,
    ExportFormat.srt: render_srt,
    ExportFormat.txt: render_txt,
    ExportFormat.json: lambda tr: json.dumps(transcript_to_dict(tr), ensure_ascii=False, indent=1) + "\n",
}


@app.command("import")
def transcript_import(
    lecture_id: Annotated[str, typer.Argument(metavar="LECTURE_ID")],
    file: Annotated[Path, typer.Argument(metavar="FILE", help="WebVTT or SRT file (detected by content).")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a corrected transcript (its corrections are re-applied).")
    ] = False,
) -> None:
    """Import a caption file as the lecture's transcript. Nothing is written when the file is malformed."""
    cli = command_or_exit()
    try:
        transcript = import_captions(cli.factory, cli.stores.transcripts, lecture_id, file, force=force)
    except OSError as error:
        fail(f"{file}: {error.strerror or error}")
    except CorrectedTranscriptError as error:
        fail(f"{error_message(error)} (--force)")
    except (CaptionError, CorrectionError) as error:
        fail(f"{file}: {error_message(error)}")
    content_changed(cli.settings, cli.factory, cli.stores, lecture_id)  # the imported captions are searchable at once
    typer.echo(f"{lecture_id}: {len(transcript.segments)} segments")


@app.command("export")
def transcript_export(
    lecture_id: Annotated[str, typer.Argument(metavar="LECTURE_ID")],
    format: Annotated[  # noqa: A002 - the option is --format
        ExportFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ExportFormat.vtt,
) -> None:
    """Write the lecture's transcript to stdout as WebVTT, SRT, plain text or JSON."""
    cli = command_or_exit()
    _require_lecture(cli.factory, lecture_id)
    transcript = load_transcript(cli.stores.transcripts, lecture_id)
    if transcript is None:
        fail(t("transcript.transcript_missing", lecture=lecture_id))
    typer.echo(_RENDER[format](transcript), nl=False)


@app.command("history")
def transcript_history(
    lecture_id: Annotated[str, typer.Argument(metavar="LECTURE_ID")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the lecture's corrections, oldest first: when, who, which segment, before → after."""
    _, factory = factory_or_exit()
    _require_lecture(factory, lecture_id)
    edits = edit_history(factory, lecture_id)
    if as_json:
        rows = [
            {
                "id": e.id,
                "segment_index": e.segment_index,
                "editor": e.editor,
                "at": e.at.isoformat() + "Z",
                "before": e.before.to_dict(),
                "after": e.after.to_dict(),
                "changed": list(e.changed),
            }
            for e in edits
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for e in edits:
        typer.echo(
            f"{e.id}\t{e.at:%Y-%m-%d %H:%M:%S}Z\t{e.editor}\t#{e.segment_index}\t{e.before.text!r} -> {e.after.text!r}"
            f"\t[{e.before.start:g}-{e.before.end:g}] -> [{e.after.start:g}-{e.after.end:g}]"
        )


@app.command("revert")
def transcript_revert(
    lecture_id: Annotated[str, typer.Argument(metavar="LECTURE_ID")],
    edit_id: Annotated[int, typer.Argument(metavar="EDIT_ID", help="The id that `history` prints first.")],
    editor: Annotated[
        str, typer.Option("--editor", help="Who undoes it (recorded as the new correction's editor).")
    ] = "cli",
) -> None:
    """Undo one correction still in place (a system correction from the lecture's documents, or anyone's): its
    segment goes back to what it was before, recorded as a new correction, which a new transcription keeps."""
    cli = command_or_exit()
    _require_lecture(cli.factory, lecture_id)
    try:
        transcript = revert_edit(cli.factory, cli.stores.transcripts, lecture_id, edit_id, editor)
    except CorrectionError as error:
        fail(error_message(error))
    content_changed(cli.settings, cli.factory, cli.stores, lecture_id)
    typer.echo(f"{lecture_id}: {len(transcript.segments)} segments")


def _require_lecture(factory, lecture_id: str) -> None:  # type: ignore[no-untyped-def]
    if not lecture_exists(factory, lecture_id):
        fail(t("transcript.lecture_not_found", lecture=lecture_id))
