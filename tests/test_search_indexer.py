"""Indexing follows the content: transcript writes, corrections, unpublishing, and a rebuild from transcripts/."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import CourseRow, LectureRow
from diemcau.adapters.storage import stores_of
from diemcau.adapters.transcript_store import write_transcript
from diemcau.core.transcript import Segment, Transcript
from diemcau.search import indexer
from diemcau.search.content import content_changed
from diemcau.search.index import SearchIndex
from diemcau.search.sqlite_index import SqliteSearchIndex
from diemcau.settings import Settings


def add_lecture(factory: sessionmaker[Session], lecture_id: str, status: str = "ready", course: str = "nq57") -> None:
    """A lecture row (and its course) in the application database."""
    with transaction(factory) as session:
        if session.get(CourseRow, course) is None:
            session.add(CourseRow(id=course, title="Nghị quyết 57", resolutions=[], completion_rule={}))
            session.flush()
        session.add(
            LectureRow(
                id=lecture_id, course_id=course, title=f"Bài {lecture_id}", speaker="Nguyễn Văn A", status=status
            )
        )


def set_status(factory: sessionmaker[Session], lecture_id: str, status: str) -> None:
    with transaction(factory) as session:
        session.get(LectureRow, lecture_id).status = status  # type: ignore[union-attr]


def transcript(lecture_id: str, *texts: str) -> Transcript:
    return Transcript(lecture_id, "vi", tuple(Segment(i, i * 60.0, i * 60.0 + 8, t) for i, t in enumerate(texts)))


@pytest.fixture
def index(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[SearchIndex]:
    """The index ``open_index`` picks for the settings, beside an application database on either backend."""
    engine = session_factory.kw["bind"]
    url = engine.url.render_as_string(hide_password=False)
    chosen = settings.model_copy(update={"database": settings.database.model_copy(update={"url": url})})
    opened = indexer.open_index(chosen, engine=engine if url.startswith("postgresql") else None)
    yield opened
    opened.close()


@pytest.fixture
def hooked(settings: Settings, session_factory: sessionmaker[Session], index: SearchIndex) -> Iterator[SearchIndex]:
    """The index, with ``write_transcript`` here followed by ``content_changed``, as every writer does."""
    yield index


def written(settings: Settings, factory: sessionmaker[Session], index: SearchIndex, transcript: Transcript) -> None:
    """Write a transcript as its writers do: the store, then ``content_changed``."""
    write_transcript(settings.transcripts_dir, transcript)
    content_changed(settings, factory, stores_of(settings), transcript.lecture_id, index)


def test_open_index_follows_the_database(settings: Settings, session_factory, index: SearchIndex) -> None:  # type: ignore[no-untyped-def]
    """Does ``auto`` pick PostgreSQL beside a PostgreSQL database and the SQLite file otherwise?"""
    is_postgres = session_factory.kw["bind"].url.get_backend_name() == "postgresql"
    assert isinstance(index, SqliteSearchIndex) is (not is_postgres)
    if not is_postgres:
        assert index.path == settings.home / "search.sqlite"  # type: ignore[attr-defined]


def test_new_transcript_and_correction_reindex_the_lecture(settings: Settings, session_factory, hooked) -> None:  # type: ignore[no-untyped-def]
    """Does writing a transcript index it, and does a correction replace the old wording in the index?"""
    add_lecture(session_factory, "lec1")
    written(settings, session_factory, hooked, transcript("lec1", "đổi mới sáng tạo", "kinh tế tư nhân"))
    assert [h.text for h in hooked.search("doi moi")] == ["đổi mới sáng tạo"]
    written(settings, session_factory, hooked, transcript("lec1", "chuyển đổi số", "kinh tế tư nhân"))
    assert hooked.search("doi moi") == []
    assert [h.text for h in hooked.search("chuyển đổi số")] == ["chuyển đổi số"]
    assert [h.title for h in hooked.search("kinh tế")] == ["Bài lec1"]


def test_unpublished_lecture_is_not_indexed(settings: Settings, session_factory, hooked) -> None:  # type: ignore[no-untyped-def]
    """Is a transcript of a lecture that is not published (still processing) kept out of the index?"""
    add_lecture(session_factory, "lec2", status="processing")
    written(settings, session_factory, hooked, transcript("lec2", "đảng viên"))
    assert hooked.search("đảng viên") == []


def test_unpublishing_removes_without_rebuild(settings: Settings, session_factory, hooked) -> None:  # type: ignore[no-untyped-def]
    """When a lecture is unpublished, does syncing it remove its hits and leave the others in place?"""
    add_lecture(session_factory, "lec1")
    add_lecture(session_factory, "lec2")
    written(settings, session_factory, hooked, transcript("lec1", "đảng viên"))
    written(settings, session_factory, hooked, transcript("lec2", "đảng viên"))
    set_status(session_factory, "lec1", "draft")
    assert indexer.sync_lecture(hooked, settings, session_factory, stores_of(settings), "lec1") == indexer.REMOVED
    assert {h.lecture_id for h in hooked.search("đảng viên")} == {"lec2"}
    set_status(session_factory, "lec1", "ready")
    assert indexer.sync_lecture(hooked, settings, session_factory, stores_of(settings), "lec1") == indexer.INDEXED
    assert {h.lecture_id for h in hooked.search("đảng viên")} == {"lec1", "lec2"}


def test_status_lookup_can_be_supplied(settings: Settings, session_factory, index: SearchIndex) -> None:  # type: ignore[no-untyped-def]
    """Can the publishing workflow supply its own "is it published?" answer instead of the default?"""
    add_lecture(session_factory, "lec1", status="draft")
    write_transcript(settings.transcripts_dir, transcript("lec1", "đảng viên"))
    outcome = indexer.sync_lecture(
        index, settings, session_factory, stores_of(settings), "lec1", is_published=lambda _id: True
    )
    assert outcome == indexer.INDEXED and len(index.search("đảng viên")) == 1


def test_published_lecture_without_transcript_keeps_its_metadata(settings, session_factory, index) -> None:  # type: ignore[no-untyped-def]
    """Is a published lecture with no transcript yet indexed by its metadata, so documents can attach?"""
    add_lecture(session_factory, "lec1")
    assert indexer.sync_lecture(index, settings, session_factory, stores_of(settings), "lec1") == indexer.NO_TRANSCRIPT
    index.index_document("lec1", "nq.txt", ["đảng viên"])
    assert [h.kind for h in index.search("đảng viên")] == ["document"]


def test_reindex_all_rebuilds_from_the_transcript_folder(settings, session_factory, index) -> None:  # type: ignore[no-untyped-def]
    """Does a full rebuild index every published lecture of transcripts/ and skip the rest?"""
    add_lecture(session_factory, "lec1")
    add_lecture(session_factory, "lec2", status="processing")
    for lecture_id in ("lec1", "lec2", "orphan"):
        write_transcript(settings.transcripts_dir, transcript(lecture_id, "đảng viên", "chi bộ"))
    index.index_lecture(indexer.lecture_meta(session_factory, "lec1"), [])  # stale: no segments  # type: ignore[arg-type]
    report = indexer.reindex_all(settings, session_factory, stores_of(settings), index=index)
    assert (report.lectures, report.segments, report.skipped) == (1, 2, ("lec2", "orphan"))
    assert {h.lecture_id for h in index.search("chi bo")} == {"lec1"}


def test_failed_indexing_leaves_the_old_rows(settings: Settings, session_factory, index: SearchIndex) -> None:  # type: ignore[no-untyped-def]
    """If indexing a lecture fails half-way, are its previous rows still there (nothing half-written)?"""
    add_lecture(session_factory, "lec1")
    index.index_lecture(indexer.lecture_meta(session_factory, "lec1"), [Segment(0, 0, 5, "đảng viên")])  # type: ignore[arg-type]

    def broken() -> Iterator[Segment]:
        yield Segment(0, 0, 5, "chi bộ")
        raise OSError("disk gone")

    with pytest.raises(OSError):
        index.index_lecture(indexer.lecture_meta(session_factory, "lec1"), broken())  # type: ignore[arg-type]
    assert [h.text for h in index.search("đảng viên")] == ["đảng viên"]
    assert index.search("chi bộ") == []


def test_sqlite_format_change_rebuilds_the_fts_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """After the normalisation changes (a new INDEX_FORMAT), is the FTS table rebuilt from the stored text?"""
    path = tmp_path / "search.sqlite"
    first = SqliteSearchIndex(path)
    first.index_lecture(indexer.LectureMeta("L1", "Bài", "nq57"), [Segment(0, 0, 5, "đảng viên")])
    first.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE search_info SET value = 'old' WHERE key = 'format'")
        db.execute("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")  # as if built by other rules
    second = SqliteSearchIndex(path)
    assert [h.text for h in second.search("dang vien")] == ["đảng viên"]
    second.close()
