"""Materials in search: a material's pages become document passages of its lecture in the search index.

* ``index_material`` — after an upload: replace that document's passages. When the lecture is not in the
  index yet, it asks the indexer to bring the lecture in (``sync_lecture``), which indexes every stored material
  of a published lecture; an unpublished lecture's materials wait for its publication (``pending``).
* ``unindex_material`` — after a removal: the document's passages go.
* ``documents_of`` — every searchable material of a lecture, re-read from its file: what the indexer uses when a
  lecture enters the index and on ``diemcau search reindex``.
* ``document_texts`` — the same, one text per material (its pages joined): what transcription aligns to and the
  studio's suggestions are made from (issue 18); ``documents_version`` names what it would read without reading
  a file, so the API keeps the texts while it is unchanged.

Search is derived data: a failure here is logged and never undoes an upload or a removal;
``diemcau search reindex`` repairs the index.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.materials import list_materials
from diemcau.adapters.material_files import MaterialFiles
from diemcau.adapters.storage import SharedVolume
from diemcau.core.material import MaterialKind
from diemcau.materials.bounded import bounds_of, extract_bounded
from diemcau.materials.errors import MaterialError
from diemcau.settings import Settings

log = logging.getLogger(__name__)


def documents_of(
    settings: Settings, factory: sessionmaker[Session], materials: SharedVolume, lecture_id: str
) -> Iterator[tuple[str, tuple[str, ...]]]:
    """``(name, page texts)`` of each stored material of a lecture that has text, re-read from its file on
    ``materials`` (the caller's ``stores.materials``; under the bounds of ``materials.bounded``, as the upload's
    job read it)."""
    files = MaterialFiles(materials)
    for record in list_materials(factory, lecture_id):
        if not record.has_text:
            continue
        path = files.local_path(lecture_id, record.stored_name)
        if path is None:
            log.error("materials: file of %r (lecture %s) is missing", record.name, lecture_id)
            continue
        try:
            kind, limit = MaterialKind(record.kind), settings.materials.max_unpacked_bytes
            yield record.name, extract_bounded(path, kind, limit, bounds_of(settings)).pages
        except MaterialError as error:
            log.error("materials: %r (lecture %s) no longer reads: %s", record.name, lecture_id, error.code)


def documents_version(factory: sessionmaker[Session], lecture_id: str) -> tuple[tuple[str, str], ...]:
    """Each material of the lecture that has text, by name and content hash: one query, no file read. While it is
    unchanged, so is ``document_texts`` (a replaced material has another hash)."""
    return tuple((record.name, record.sha256) for record in list_materials(factory, lecture_id) if record.has_text)


def document_texts(
    settings: Settings, factory: sessionmaker[Session], materials: SharedVolume, lecture_id: str
) -> tuple[str, ...]:
    """The text of each of the lecture's materials that has text (its pages joined), as ``documents_of`` reads it."""
    return tuple("\n".join(pages) for _, pages in documents_of(settings, factory, materials, lecture_id))
