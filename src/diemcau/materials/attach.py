"""Attaching a material to a lecture, and removing it: the one path both the API and the CLI take.

``attach_material`` runs, in order (nothing is stored unless every step before storing succeeds):

1. the name — cleaned (``core.material.clean_name``), refused if unusable or already taken (unless ``replace``);
2. the lecture — it must exist;
3. the bytes — copied into the staging folder, counted against ``materials.max_bytes`` and hashed;
4. extraction — kind from the content, text of each page (``materials.extract``); refusals are
   ``MaterialError`` with a Vietnamese message;
5. storing — the row is written, the staged file renamed into place, then the row committed; a failure at any
   point removes the file it placed, and a refused or failed upload leaves no staging file either;
6. search — the pages are indexed as document hits (``materials.documents``); a failure there is logged and
   never undoes the upload.

A replaced material's old file is removed only after the new row is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.lectures import utcnow
from diemcau.adapters.db.materials import MaterialRecord, delete_material, find_material, save_material
from diemcau.adapters.db.models import LectureRow
from diemcau.adapters.material_files import MaterialFiles, StagedFile, materials_root
from diemcau.core.lecture import is_valid_lecture_id
from diemcau.core.material import clean_name
from diemcau.materials.documents import index_material, unindex_material
from diemcau.materials.errors import MaterialError
from diemcau.materials.extract import extract
from diemcau.search.index import SearchIndex
from diemcau.settings import Settings

NO_TEXT = "no_text"  # the search outcome of a material without a text layer (a scan)
# What to tell the trainer about each search outcome that needs saying (catalogue keys).
NOTICES = {NO_TEXT: "materials.no_text", "pending": "materials.index_pending", "failed": "materials.index_failed"}


@dataclass(frozen=True)
class AttachRequest:
    """Who attaches which file name to which lecture; ``replace`` overwrites a material of the same name."""

    lecture_id: str
    file_name: str
    uploaded_by: str
    replace: bool = False


@dataclass(frozen=True)
class Attached:
    """An attached material, whether it replaced one, and its search outcome: ``indexed``, ``pending`` (the
    lecture is not published), ``no_text`` (a scan) or ``failed`` (logged; ``diemcau search reindex`` repairs)."""

    record: MaterialRecord
    replaced: bool
    search: str


def _lecture_exists(factory: sessionmaker[Session], lecture_id: str) -> bool:
    with factory() as session:
        return session.get(LectureRow, lecture_id) is not None


def attach_material(
    settings: Settings, factory: sessionmaker[Session], index: SearchIndex | None, request: AttachRequest,
    stream: BinaryIO,
) -> Attached:  # fmt: skip
    """Attach the file read from ``stream``; ``MaterialError`` for anything refused (nothing is left behind).

    ``index`` ``None`` skips search (the lecture's materials are indexed when it enters the index)."""
    name = clean_name(request.file_name)
    if name is None:
        raise MaterialError("invalid_name", name=request.file_name)
    if not is_valid_lecture_id(request.lecture_id) or not _lecture_exists(factory, request.lecture_id):
        raise MaterialError("lecture_not_found")
    existing = find_material(factory, request.lecture_id, name)
    if existing is not None and not request.replace:
        raise MaterialError("duplicate", name=name)
    files = MaterialFiles(materials_root(settings))
    with files.receive(stream, settings.materials.max_bytes) as staged:
        text = extract(staged.path, settings.materials.max_unpacked_bytes)
        record = MaterialRecord(request.lecture_id, name, text.kind.value, staged.size, staged.sha256,
                                text.page_count, text.chars, request.uploaded_by, utcnow())  # fmt: skip
        previous = _store(files, factory, staged, record, request.replace, existing)
    if previous is not None and previous.stored_name != record.stored_name:
        files.remove(record.lecture_id, previous.stored_name)
    search = _index(index, settings, factory, record, text.pages)
    return Attached(record, previous is not None, NO_TEXT if not text.has_text and search != "failed" else search)


def _store(
    files: MaterialFiles, factory: sessionmaker[Session], staged: StagedFile, record: MaterialRecord, replace: bool,
    existing: MaterialRecord | None,
) -> MaterialRecord | None:  # fmt: skip
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
    index: SearchIndex | None, settings: Settings, factory: sessionmaker[Session], record: MaterialRecord,
    pages: tuple[str, ...],
) -> str:  # fmt: skip
    if index is None:
        return "pending"
    return index_material(index, settings, factory, record.lecture_id, record.name, pages)


def remove_material(
    settings: Settings, factory: sessionmaker[Session], index: SearchIndex | None, lecture_id: str, name: str
) -> MaterialRecord:
    """Remove a material: its row, then its file and its search passages; ``MaterialError("not_found")``."""
    removed = delete_material(factory, lecture_id, name)
    if removed is None:
        raise MaterialError("not_found", name=name)
    MaterialFiles(materials_root(settings)).remove(lecture_id, removed.stored_name)
    if index is not None:
        unindex_material(index, lecture_id, name)
    return removed
