"""Content changed: the one call every writer of transcripts and materials makes, which fans out to search.

* ``content_changed(settings, factory, stores, lecture_id)`` — a lecture's transcript was written (transcription,
  caption import, correction) or the lecture became ready: its search rows are brought in line with it
  (``indexer.sync_lecture``). Writers call it themselves, after the write, on every path (the CLI's ``--wait``
  without a worker, ``drain_queue``, the API, a worker): nothing depends on an entry point having subscribed.
* ``index_material`` — after a material upload: replace that document's passages. When the lecture is not in
  the index yet, the indexer brings the lecture in (``sync_lecture``), which indexes every stored material of
  a published lecture; an unpublished lecture's materials wait for its publication (``pending``).
* ``unindex_material`` — after a material removal: the document's passages go.

Each takes the writer's ``stores`` (``adapters/storage.py``), from which the indexer re-reads the transcript and
the materials.

Search is derived data: a failure here is logged and never undoes the write; ``diemcau search reindex`` repairs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.storage import Stores
from diemcau.search.index import LectureNotIndexed, SearchIndex
from diemcau.search.indexer import REMOVED, open_index, sync_lecture
from diemcau.settings import Settings

log = logging.getLogger(__name__)


def content_changed(
    settings: Settings,
    factory: sessionmaker[Session],
    stores: Stores,
    lecture_id: str,
    index: SearchIndex | None = None,
) -> str | None:
    """Fan a lecture's changed content out to search (``index``, default: the one the settings choose).

    Returns the indexer's outcome (``indexed``, ``removed``, ``no_transcript``), or None when indexing failed
    (logged: the content stands, ``diemcau search reindex`` repairs)."""
    target = index or open_index(settings)
    try:
        outcome = sync_lecture(target, settings, factory, stores, lecture_id)
        log.info("search: lecture %s %s", lecture_id, outcome)
        return outcome
    except Exception:  # noqa: BLE001 - search is derived data: the write stands
        log.exception("search: lecture %s not re-indexed", lecture_id)
        return None
    finally:
        if index is None:
            target.close()


INDEXED, PENDING, FAILED = "indexed", "pending", "failed"


def index_material(
    index: SearchIndex,
    settings: Settings,
    factory: sessionmaker[Session],
    stores: Stores,
    lecture_id: str,
    name: str,
    pages: Sequence[str],
) -> str:
    """Put a material's pages in the index: ``indexed``, ``pending`` (lecture not published) or ``failed``."""
    try:
        try:
            index.index_document(lecture_id, name, pages)
            return INDEXED
        except LectureNotIndexed:
            return PENDING if sync_lecture(index, settings, factory, stores, lecture_id) == REMOVED else INDEXED
    except Exception:  # noqa: BLE001 - the upload stands; `diemcau search reindex` repairs the index
        log.exception("search: material %r of lecture %s not indexed", name, lecture_id)
        return FAILED


def unindex_material(index: SearchIndex, lecture_id: str, name: str) -> None:
    """Remove a material's passages from the index (nothing to do when the lecture is not indexed)."""
    try:
        index.index_document(lecture_id, name, [])
    except LectureNotIndexed:
        pass
    except Exception:  # noqa: BLE001 - the removal stands; `diemcau search reindex` repairs the index
        log.exception("search: passages of material %r of lecture %s not removed", name, lecture_id)
