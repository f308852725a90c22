"""Attaching a material to a lecture, reading its text, and removing it: the one path the API and the CLI take.

``attach_material`` runs, in order (nothing is stored unless every step before storing succeeds):

1. the name — cleaned (``core.material.clean_name``), refused if unusable or already taken (unless ``replace``);
2. the lecture — it must exist;
3. the bytes — copied into the staging folder, counted against ``materials.max_bytes`` and hashed;
4. the kind — from the content's first bytes and a package's directory (``materials.sniff``: no parsing, so
   it takes no time whatever the document holds); refusals are ``MaterialError`` with a Vietnamese message;
5. storing — the row is written (state ``processing``), the staged file renamed into place, then the row
   committed; a failure at any point removes the file it placed, and a refused or failed upload leaves no
   staging file either.

The text is read later, by ``read_material`` in a background job (``jobs.material_task``), in a child process
under a memory and a time bound (``materials.bounded``): the upload never waits for it. The job records the
pages and the state — ``ready``, ``too_big`` (cut off by a bound) or the refusal code of a file it cannot
read — and indexes the pages as document hits (``materials.documents``); a failure there is logged and never
undoes the upload. A material that is not ``ready`` stays downloadable but is not searchable.

A replaced material's old file is removed only after the new row is committed.

The files live on the caller's materials store (``stores.materials`` of the API's runtime, the worker's
context or the CLI command's; ``adapters/storage.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.lectures import utcnow
from diemcau.adapters.db.materials import (
    PROCESSING,
    READY,
    MaterialRecord,
    delete_material,
    find_material,
    record_extraction,
    save_material,
)
from diemcau.adapters.db.models import LectureRow
from diemcau.adapters.material_files import MaterialFiles, StagedFile
from diemcau.adapters.storage import SharedVolume, Stores
from diemcau.core.lecture import is_valid_lecture_id
from diemcau.core.material import MaterialKind, clean_name
from diemcau.materials.bounded import extract_bounded, bounds_of
from diemcau.materials.errors import MaterialError
from diemcau.materials.sniff import sniff
from diemcau.search.content import index_material, unindex_material
from diemcau.search.index import SearchIndex
from diemcau.settings import Settings

NO_TEXT = "no_text"  # the search outcome of a material without a text layer (a scan)
TOO_BIG = "too_big"  # the extraction passed its memory or time bound
# What to tell the trainer about each search outcome that needs saying (catalogue keys); the outcome of a file the
# job cannot read is its refusal code, told with that code's message.
NOTICES = {
    NO_TEXT: "materials.no_text",
    "pending": "materials.index_pending",
    "failed": "materials.index_failed",
    PROCESSING: "materials.processing",
    TOO_BIG: "materials.too_big",
}


def notice_key(outcome: str) -> str | None:
    """The catalogue key of what to tell the trainer about a search outcome or a material state (``None``: nothing)."""
    if outcome in NOTICES:
        return NOTICES[outcome]
    return None if outcome in ("indexed", READY) else f"materials.{outcome}"


@dataclass(frozen=True)
class AttachRequest:
    """Who attaches which file name to which lecture; ``replace`` overwrites a material of the same name."""

    lecture_id: str
    file_name: str
    uploaded_by: str
    replace: bool = False


@dataclass(frozen=True)
class Attached:
    """An attached material, whether it replaced one, and its search outcome: ``processing`` at upload (the job
    reads it), then ``indexed``, ``pending`` (the lecture is not published), ``no_text`` (a scan), ``too_big``,
    a refusal code, or ``failed`` (logged; ``diemcau search reindex`` repairs)."""

    record: MaterialRecord
    replaced: bool
    search: str


def _lecture_exists(factory: sessionmaker[Session], lecture_id: str) -> bool:
    with factory() as session:
        return session.get(LectureRow, lecture_id) is not None


def attach_material(
    settings: Settings,
    factory: sessionmaker[Session],
    materials: SharedVolume,
    request: AttachRequest,
    stream: BinaryIO,
) -> Attached:
    """Store the file read from ``stream``, its text still to read (state ``processing``: queue ``read_material``);
    ``MaterialError`` for anything refused (nothing is left behind)."""
    name = clean_name(request.file_name)
    if name is None:
        raise MaterialError("invalid_name", name=request.file_name)
    if not is_valid_lecture_id(request.lecture_id) or not _lecture_exists(factory, request.lecture_id):
        raise MaterialError("lecture_not_found")
    existing = find_material(factory, request.lecture_id, name)
    if existing is not None and not request.replace:
        raise MaterialError("duplicate", name=name)
    files = MaterialFiles(materials)
    with files.receive(stream, settings.materials.max_bytes) as staged:
        kind = sniff(staged.path, settings.materials.max_unpacked_bytes)
        record = MaterialRecord(
            request.lecture_id,
            name,
            kind.value,
            staged.size,
            staged.sha256,
            0,
            0,
            request.uploaded_by,
            utcnow(),
            PROCESSING,
        )
        previous = _store(files, factory, staged, record, request.replace, existing)
    if previous is not None and previous.stored_name != record.stored_name:
        files.remove(record.lecture_id, previous.stored_name)
    return Attached(record, previous is not None, PROCESSING)


def read_material(
    settings: Settings,
    factory: sessionmaker[Session],
    stores: Stores,
    index: SearchIndex | None,
    lecture_id: str,
    name: str,
    sha256: str,
) -> Attached | None:
    """Read the text of the material ``name`` (the file ``sha256``) under the bounds, record it and index it;
    ``None`` when the material is gone, was replaced meanwhile (its replacement has its own job) or was read
    already (a copy of its job queued again by a recovery sweep).

    ``index`` ``None`` skips search (the lecture's materials are indexed when it enters the index)."""
    record = find_material(factory, lecture_id, name)
    path = None if record is None else MaterialFiles(stores.materials).local_path(lecture_id, record.stored_name)
    if record is None or record.sha256 != sha256 or not record.processing or path is None:
        return None
    try:
        text = extract_bounded(
            path, MaterialKind(record.kind), settings.materials.max_unpacked_bytes, bounds_of(settings)
        )
    except MaterialError as error:
        stored = record_extraction(factory, lecture_id, name, sha256, error.code, 0, 0)
        if index is not None:
            unindex_material(index, lecture_id, name)  # a replaced material's old passages go too
        return None if stored is None else Attached(stored, False, error.code)
    stored = record_extraction(factory, lecture_id, name, sha256, READY, text.page_count, text.chars)
    if stored is None:
        return None
    search = _index(index, settings, factory, stores, stored, text.pages)
    return Attached(stored, False, NO_TEXT if not text.has_text and search != "failed" else search)


def _store(
    files: MaterialFiles,
    factory: sessionmaker[Session],
    staged: StagedFile,
    record: MaterialRecord,
    replace: bool,
    existing: MaterialRecord | None,
) -> MaterialRecord | None:
    placed: list[bool] = []

    def place() -> None:
        files.publish(staged, record.lecture_id, record.stored_name)
        placed.append(True)

    try:
        return save_material(factory, record, replace=replace, before_commit=place)
    except BaseException:
        # The file placed is new unless the material kept its name and content (then the old row points at it).
        if placed and (existing is None or existing.stored_name != record.stored_name):
            files.remove(record.lecture_id, record.stored_name)
        raise


def _index(
    index: SearchIndex | None,
    settings: Settings,
    factory: sessionmaker[Session],
    stores: Stores,
    record: MaterialRecord,
    pages: tuple[str, ...],
) -> str:
    if index is None:
        return "pending"
    return index_material(index, settings, factory, stores, record.lecture_id, record.name, pages)


def remove_material(
    factory: sessionmaker[Session],
    materials: SharedVolume,
    index: SearchIndex | None,
    lecture_id: str,
    name: str,
) -> MaterialRecord:
    """Remove a material: its row, then its file and its search passages; ``MaterialError("not_found")``."""
    removed = delete_material(factory, lecture_id, name)
    if removed is None:
        raise MaterialError("not_found", name=name)
    MaterialFiles(materials).remove(lecture_id, removed.stored_name)
    if index is not None:
        unindex_material(index, lecture_id, name)
    return removed
