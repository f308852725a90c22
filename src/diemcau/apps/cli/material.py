"""``diemcau lecture attach LECTURE_ID FILE [--replace]``: attach a material (PDF, DOCX, PPTX) to a lecture.

Registered into the ``lecture`` group (``apps/cli/__init__.py``). It takes the same path as an upload through
the API (``materials.attach``): the file's kind is read from its content, then its text is read here and now (in
the same bounded child process as the API's background job) and indexed for search, and a refused file
(encrypted, damaged, too large, not one of the three formats, a name already taken) leaves nothing behind. Refusals are the trainer's to fix, so they come from the Vietnamese catalogue.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from diemcau.apps.cli.common import command_or_exit, fail
from diemcau.i18n import t
from diemcau.materials.attach import AttachRequest, attach_material, notice_key, read_material, remove_material
from diemcau.materials.errors import MaterialError
from diemcau.search.indexer import open_index


def lecture_attach(
    lecture_id: Annotated[str, typer.Argument(metavar="LECTURE_ID")],
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A PDF, DOCX or PPTX; members download it by its name.")],
    replace: Annotated[bool, typer.Option("--replace", help="Replace the material of the same name.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored material as JSON.")] = False,
) -> None:
    """Attach the resolution text or slides to a lecture; their text becomes searchable as document hits."""
    cli = command_or_exit()
    settings, factory, stores = cli.settings, cli.factory, cli.stores
    if not file.is_file():
        fail(f"No such file: {file}")
    index = open_index(settings)
    try:
        with file.open("rb") as stream:
            request = AttachRequest(lecture_id, file.name, "cli", replace)
            first = attach_material(settings, factory, stores.materials, request, stream)
        stored = first.record
        # The operator waits here for what the API's background job does (the same bounded child process).
        attached = read_material(settings, factory, stores, index, lecture_id, stored.name, stored.sha256)
        if attached is not None and attached.record.state not in ("ready", "too_big"):  # a file nobody can read
            remove_material(factory, stores.materials, index, lecture_id, stored.name)
            raise MaterialError(attached.record.state)
    except MaterialError as error:
        fail(error.message())
        return
    finally:
        index.close()
    if attached is None:
        fail(f"{stored.name} was replaced or removed meanwhile")
        return
    record = attached.record
    if as_json:
        data = {key: getattr(record, key) for key in ("lecture_id", "name", "kind", "size", "sha256", "pages")}
        typer.echo(json.dumps(data | {"replaced": first.replaced, "search": attached.search}, ensure_ascii=False))
    else:
        pages = f"{record.pages} page(s)"
        typer.echo(f"{record.name}\t{record.kind}\t{pages}\t{record.size} bytes\tsearch: {attached.search}")
    if key := notice_key(attached.search):
        typer.secho(t(key), fg=typer.colors.YELLOW, err=True)
