"""Indexing follows the content: one lecture at a time on each change, a full rebuild only on request.

* a new transcript, a caption import, a correction: its writer calls ``search.content.content_changed``, which
  calls ``sync_lecture`` here: it re-reads that one lecture's transcript and replaces its rows (documents kept);
* a lecture unpublished (or deleted): ``sync_lecture`` (or ``remove_lecture``) removes its rows;
* ``reindex_all`` (``diemcau search reindex``): rebuilds the whole index from ``transcripts/``, with the
  lectures' attached materials (documents).

Documents (lecture materials) come from a ``DocumentLoader`` (lecture id → ``(name, page texts)``); the default
reads the stored materials (``diemcau.materials.documents.documents_of``). Transcripts and materials are read
from the caller's stores (``stores``: the process's ``ApiRuntime.stores``, ``WorkerContext.stores`` or the CLI
command's), never from folders of the settings. They are indexed when a lecture
enters the index (``sync_lecture`` on a lecture not indexed before) and on a rebuild, right after the one
transaction that rebuilds the transcripts; an upload indexes its own document as it is stored.

Only published lectures are indexed. Whether a lecture is published is asked of a ``PublishedLookup``
(lecture id → bool), so the publishing workflow can be wired in without touching search; the default reads
``lectures.status`` and asks the visibility rule (``core.visibility.is_published``: ``ready`` only).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters import transcript_store
from diemcau.adapters.db.materials import lectures_with_materials
from diemcau.adapters.db.models import LectureRow
from diemcau.adapters.storage import SharedVolume, Stores
from diemcau.core.transcript import Segment, Transcript
from diemcau.core import visibility
from diemcau.materials.documents import documents_of
from diemcau.search.index import DEFAULT_PREFIX, LectureMeta, SearchIndex
from diemcau.settings import Settings

log = logging.getLogger(__name__)

PublishedLookup = Callable[[str], bool]
TranscriptLoader = Callable[[SharedVolume, str], "Transcript | None"]
DocumentLoader = Callable[[str], Iterable[tuple[str, Sequence[str]]]]  # lecture id → (document name, pages)

INDEXED, REMOVED, NO_TRANSCRIPT = "indexed", "removed", "no_transcript"


@dataclass(frozen=True)
class ReindexReport:
    """What a full rebuild did."""

    lectures: int
    segments: int
    skipped: tuple[str, ...]  # transcript folders with no published lecture behind them
    documents: int = 0  # attached materials indexed


def open_index(settings: Settings, engine: Engine | None = None, prefix: str = DEFAULT_PREFIX) -> SearchIndex:
    """The search index the settings choose: SQLite FTS5 in the data directory, or PostgreSQL.

    ``auto`` follows the application database: PostgreSQL when it is PostgreSQL, else the SQLite file.
    """
    backend = settings.search.backend
    if backend == "auto":
        backend = "postgres" if settings.database_url.startswith("postgresql") else "sqlite"
    if backend == "postgres":
        from diemcau.search.postgres_index import PostgresSearchIndex

        return PostgresSearchIndex(settings.database_url if engine is None else None, engine=engine, prefix=prefix)
    from diemcau.search.sqlite_index import SqliteSearchIndex

    return SqliteSearchIndex(settings.home / settings.search.sqlite_path, prefix=prefix)


def lecture_meta(factory: sessionmaker[Session], lecture_id: str) -> LectureMeta | None:
    """The metadata of a lecture from the application database, or ``None`` when there is no such lecture."""
    with factory() as session:
        row = session.get(LectureRow, lecture_id)
        if row is None:
            return None
        created = row.created_at.date() if row.created_at else None
        return LectureMeta(row.id, row.title, row.course_id, row.speaker or "", row.resolution or "", created)


def published_in_database(factory: sessionmaker[Session]) -> PublishedLookup:
    """The default lookup: a lecture is published when the visibility rule says its ``lectures.status`` is."""

    def is_published(lecture_id: str) -> bool:
        with factory() as session:
            row = session.get(LectureRow, lecture_id)
            return row is not None and visibility.is_published(row.status)

    return is_published


def stored_documents(settings: Settings, factory: sessionmaker[Session], materials: SharedVolume) -> DocumentLoader:
    """The default document loader: the lecture's stored materials, their text re-read from the files."""
    return lambda lecture_id: documents_of(settings, factory, materials, lecture_id)


def index_documents(index: SearchIndex, documents: DocumentLoader, lecture_id: str) -> int:
    """Index every document ``documents`` yields for an indexed lecture; returns how many. One that fails is
    logged and skipped: documents never stop a lecture's transcript from being searchable."""
    count = 0
    for name, pages in documents(lecture_id):
        try:
            index.index_document(lecture_id, name, pages)
            count += 1
        except Exception:  # noqa: BLE001 - logged; `diemcau search reindex` repairs
            log.exception("search: document %r of lecture %s not indexed", name, lecture_id)
    return count


def _segments(transcript: Transcript | None) -> tuple[Segment, ...]:
    return transcript.segments if transcript is not None else ()


def sync_lecture(
    index: SearchIndex,
    settings: Settings,
    factory: sessionmaker[Session],
    stores: Stores,
    lecture_id: str,
    *,
    is_published: PublishedLookup | None = None,
    load: TranscriptLoader = transcript_store.load_transcript,
    documents: DocumentLoader | None = None,
) -> str:
    """Bring one lecture's rows in line with its transcript and status: ``indexed``, ``removed`` or
    ``no_transcript`` (published, but nothing transcribed yet: its metadata is indexed, for documents).

    A lecture entering the index also gets its documents (``documents``, default: its stored materials)."""
    published = (is_published or published_in_database(factory))(lecture_id)
    meta = lecture_meta(factory, lecture_id)
    if not published or meta is None:
        index.remove_lecture(lecture_id)
        return REMOVED
    entering = lecture_id not in index.lecture_ids()
    transcript = load(stores.transcripts, lecture_id)
    index.index_lecture(meta, _segments(transcript))
    if entering:
        index_documents(index, documents or stored_documents(settings, factory, stores.materials), lecture_id)
    return INDEXED if transcript is not None else NO_TRANSCRIPT


def remove_lecture(index: SearchIndex, lecture_id: str) -> bool:
    """Take an unpublished or deleted lecture out of the index; returns whether it was there."""
    return index.remove_lecture(lecture_id)


def reindex_all(
    settings: Settings,
    factory: sessionmaker[Session],
    stores: Stores,
    *,
    index: SearchIndex | None = None,
    is_published: PublishedLookup | None = None,
    load: TranscriptLoader = transcript_store.load_transcript,
    documents: DocumentLoader | None = None,
) -> ReindexReport:
    """Rebuild the whole index from ``transcripts/`` (published lectures only) in one transaction, then index
    the documents of every published lecture (lectures with materials but no transcript included)."""
    own = index is None
    index = index or open_index(settings)
    published = is_published or published_in_database(factory)
    folders = transcript_store.transcript_ids(stores.transcripts)
    skipped: list[str] = []
    counted = [0]

    metas = []
    for lecture_id in sorted(set(folders) | lectures_with_materials(factory)):
        meta = lecture_meta(factory, lecture_id)
        if meta is None or not published(lecture_id):
            skipped.extend([lecture_id] if lecture_id in folders else [])
        else:
            metas.append(meta)
    # Oldest first: within a ranking tier the most recently indexed rows come first, i.e. the newest lectures.
    metas.sort(key=lambda m: (m.created_on or dt.date.min, m.lecture_id))

    def lectures() -> Iterator[tuple[LectureMeta, tuple[Segment, ...]]]:
        for meta in metas:
            counted[0] += 1
            yield meta, _segments(load(stores.transcripts, meta.lecture_id))

    loader = documents or stored_documents(settings, factory, stores.materials)
    try:
        segments = index.rebuild(lectures())
        indexed = sum(index_documents(index, loader, meta.lecture_id) for meta in metas)
    finally:
        if own:
            index.close()
    return ReindexReport(counted[0], segments, tuple(skipped), indexed)
