"""Storing materials (file + row + search passages) on SQLite and PostgreSQL, and leaving nothing when refused."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.materials import MaterialRecord, find_material, list_materials, save_material
from diemcau.adapters.db.models_materials import LectureMaterialRow
from diemcau.adapters.material_files import MaterialFiles
from diemcau.adapters.storage import stores_of
from diemcau.asr.pipeline import options_from_settings
from diemcau.i18n import t
from diemcau.materials.attach import AttachRequest, attach_material, read_material, remove_material
from diemcau.materials.documents import document_texts
from diemcau.materials.errors import MaterialError
from diemcau.search import indexer
from diemcau.search.index import SearchIndex
from diemcau.settings import Settings
from tests.material_fixtures import (
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_pptx,
    make_scanned_pdf,
    pdf_bytes,
    stored_files,
)
from tests.transcript_fixtures import seed_lecture

LECTURE = "lecMat01"


@pytest.fixture
def index(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[SearchIndex]:
    """The search index ``open_index`` picks beside the application database (PostgreSQL or the SQLite file)."""
    engine = session_factory.kw["bind"]
    url = engine.url.render_as_string(hide_password=False)
    chosen = settings.model_copy(update={"database": settings.database.model_copy(update={"url": url})})
    opened = indexer.open_index(chosen, engine=engine if url.startswith("postgresql") else None)
    yield opened
    opened.close()


@pytest.fixture
def lecture(settings: Settings, session_factory: sessionmaker[Session], index: SearchIndex) -> str:
    """A ready (published) lecture, already in the search index."""
    seed_lecture(session_factory, LECTURE, course_id="nq57")
    assert indexer.sync_lecture(index, settings, session_factory, stores_of(settings), LECTURE) == indexer.NO_TRANSCRIPT
    return LECTURE


def attach(  # type: ignore[no-untyped-def]
    settings, factory, index, path: Path, name: str | None = None, replace: bool = False
):
    """Store the file, then read it as the background job does; the job's outcome (``replaced`` from the upload)."""
    with path.open("rb") as stream:
        request = AttachRequest(LECTURE, name or path.name, "b1002", replace)
        stored = attach_material(settings, factory, stores_of(settings).materials, request, stream)
    assert stored.search == "processing" and not stored.record.has_text
    read = read_material(
        settings, factory, stores_of(settings), index, LECTURE, stored.record.name, stored.record.sha256
    )
    assert read is not None
    return dataclasses.replace(read, replaced=stored.replaced)


def rows(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(LectureMaterialRow)) or 0


def test_attached_pdf_is_stored_and_searchable(  # type: ignore[no-untyped-def]
    settings, session_factory, index, lecture, tmp_path
) -> None:
    """Is an attached PDF stored (file and row with its hash and pages) and found as a document hit?"""
    source = make_pdf(tmp_path / "Nghị quyết 57.pdf")
    attached = attach(settings, session_factory, index, source)
    record = attached.record
    assert (record.kind, record.pages, record.uploaded_by, attached.search) == ("pdf", 2, "b1002", "indexed")
    stored = MaterialFiles(stores_of(settings).materials).local_path(LECTURE, record.stored_name)
    assert stored is not None and stored.read_bytes() == source.read_bytes()
    assert find_material(session_factory, LECTURE, "Nghị quyết 57.pdf") == record
    hits = index.search("chuyen doi so")
    assert [(h.kind, h.doc_name, h.page) for h in hits] == [("document", "Nghị quyết 57.pdf", 2)]
    assert "doc=Ngh%E1%BB%8B%20quy%E1%BA%BFt%2057.pdf&page=2" in hits[0].link


def test_docx_and_pptx_are_searchable_too(  # type: ignore[no-untyped-def]
    settings, session_factory, index, lecture, tmp_path
) -> None:
    """Are a Word document's and a slide deck's words found, each under its own name?"""
    attach(settings, session_factory, index, make_docx(tmp_path / "van-ban.docx", ("Quán triệt nghị quyết.",)))
    slides = (("Mục tiêu", "Hạ tầng số", "Ghi chú: dữ liệu mở"),)
    attach(settings, session_factory, index, make_pptx(tmp_path / "trinh-chieu.pptx", slides))
    assert [h.doc_name for h in index.search("quan triet")] == ["van-ban.docx"]
    assert [(h.doc_name, h.page) for h in index.search("du lieu mo")] == [("trinh-chieu.pptx", 1)]
    assert [m.name for m in list_materials(session_factory, LECTURE)] == ["trinh-chieu.pptx", "van-ban.docx"]


def test_duplicate_name_is_refused_unless_replaced(  # type: ignore[no-untyped-def]
    settings, session_factory, index, lecture, tmp_path
) -> None:
    """Is a second file under a taken name refused (409), and with ``replace`` does it take over cleanly?"""
    first = attach(settings, session_factory, index, make_pdf(tmp_path / "nq.pdf"))
    newer = make_pdf(tmp_path / "moi.pdf", ("Bản sửa đổi: kinh tế tư nhân.",))
    with pytest.raises(MaterialError) as refused:
        attach(settings, session_factory, index, newer, name="nq.pdf")
    assert refused.value.code == "duplicate" and refused.value.http_status == 409
    assert "thay thế" in refused.value.message()
    assert [p.name for p in stored_files(settings)] == [first.record.stored_name]
    replaced = attach(settings, session_factory, index, newer, name="nq.pdf", replace=True)
    assert replaced.replaced and replaced.record.pages == 1 and rows(session_factory) == 1
    assert [p.name for p in stored_files(settings)] == [replaced.record.stored_name]  # the old file is gone
    assert index.search("chuyen doi so") == [] and [h.page for h in index.search("kinh te tu nhan")] == [1]


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda d: _bytes(d / "x.pdf", b""), "empty"),
        (lambda d: _bytes(d / "virus.pdf", b"MZ" + b"\0" * 200), "not_supported"),
        (lambda d: _bytes(d / "lon.pdf", pdf_bytes() + b"\0" * 100_000), "too_large"),
    ],
    ids=["empty", "exe", "too-large"],
)
def test_refused_files_leave_nothing(  # type: ignore[no-untyped-def]
    settings, session_factory, index, lecture, tmp_path, make, code
) -> None:
    """Does a refused file leave no stored file, no staging file, no row and no search passage?"""
    small = settings.model_copy(update={"materials": settings.materials.model_copy(update={"max_bytes": 100_000})})
    with pytest.raises(MaterialError) as refused:
        attach(small, session_factory, index, make(tmp_path))
    assert refused.value.code == code
    assert stored_files(settings) == [] and rows(session_factory) == 0 and index.search("đảng viên") == []


def test_row_is_rolled_back_when_placing_the_file_fails(  # type: ignore[no-untyped-def]
    settings, session_factory, index, lecture
) -> None:
    """If the file cannot be put in place after the row is written, is the row rolled back?"""
    record = MaterialRecord(LECTURE, "nq.pdf", "pdf", 10, "c" * 64, 1, 10, "b1002")

    def place_fails() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        save_material(session_factory, record, replace=False, before_commit=place_fails)
    assert rows(session_factory) == 0


def test_an_upload_that_cannot_be_placed_leaves_nothing(  # type: ignore[no-untyped-def]
    settings, session_factory, index, lecture, tmp_path
) -> None:
    """When the lecture's materials folder cannot be created (a file is in the way), is the upload refused
    with no row, no staging file and nothing in search?"""
    blocker = stores_of(settings).materials.root / LECTURE
    blocker.parent.mkdir(parents=True)
    blocker.write_bytes(b"not a folder")
    with pytest.raises(OSError):
        attach(settings, session_factory, index, make_pdf(tmp_path / "nq.pdf"))
    assert stored_files(settings) == [blocker] and rows(session_factory) == 0 and index.search("chuyen doi so") == []


def test_unknown_lecture_and_bad_name_are_refused(  # type: ignore[no-untyped-def]
    settings, session_factory, index, lecture, tmp_path
) -> None:
    """Are a lecture that does not exist and an unusable file name refused before any byte is stored?"""
    path = make_pdf(tmp_path / "nq.pdf")
    with path.open("rb") as stream, pytest.raises(MaterialError) as refused:
        attach_material(
            settings, session_factory, stores_of(settings).materials, AttachRequest("khongco", "nq.pdf", "t"), stream
        )
    assert refused.value.code == "lecture_not_found"
    with pytest.raises(MaterialError) as refused:
        attach(settings, session_factory, index, path, name=".an")
    assert refused.value.code == "invalid_name" and stored_files(settings) == []


def test_scan_is_stored_but_flagged_not_searchable(  # type: ignore[no-untyped-def]
    settings, session_factory, index, lecture, tmp_path
) -> None:
    """Is a scanned PDF kept for download while the result says its content cannot be searched?"""
    attached = attach(settings, session_factory, index, make_scanned_pdf(tmp_path / "ban-scan.pdf"))
    assert attached.search == "no_text" and not attached.record.has_text and attached.record.pages == 1
    assert rows(session_factory) == 1 and len(stored_files(settings)) == 1


def test_removal_takes_file_row_and_passages(  # type: ignore[no-untyped-def]
    settings, session_factory, index, lecture, tmp_path
) -> None:
    """Does removing a material delete its file, its row and its search passages, and refuse a second time?"""
    attach(settings, session_factory, index, make_pdf(tmp_path / "nq.pdf"))
    remove_material(session_factory, stores_of(settings).materials, index, LECTURE, "nq.pdf")
    assert stored_files(settings) == [] and rows(session_factory) == 0 and index.search("chuyen doi so") == []
    with pytest.raises(MaterialError) as refused:
        remove_material(session_factory, stores_of(settings).materials, index, LECTURE, "nq.pdf")
    assert refused.value.code == "not_found" and refused.value.http_status == 404


class BrokenIndex:
    """A search index whose writes fail, as when its disk is full: stands in for the index at that edge."""

    def index_document(self, lecture_id: str, doc_name: str, text_pages) -> int:  # type: ignore[no-untyped-def]
        raise OSError("search index unavailable")


def test_a_failing_index_does_not_lose_the_upload(  # type: ignore[no-untyped-def]
    settings, session_factory, lecture, tmp_path, caplog
) -> None:
    """When search cannot take the text, is the material still stored, the failure logged and reported?"""
    attached = attach(settings, session_factory, BrokenIndex(), make_pdf(tmp_path / "nq.pdf"))
    assert attached.search == "failed" and rows(session_factory) == 1 and len(stored_files(settings)) == 1
    assert "not indexed" in caplog.text


def test_unpublished_lecture_indexes_its_materials_when_published(  # type: ignore[no-untyped-def]
    settings, session_factory, index, tmp_path
) -> None:
    """Are materials of a lecture still processing kept out of search, then found once it is ready?"""
    seed_lecture(session_factory, LECTURE, course_id="nq57", status="processing")
    attached = attach(settings, session_factory, index, make_pdf(tmp_path / "nq.pdf"))
    assert attached.search == "pending" and index.search("chuyen doi so") == []
    with session_factory.begin() as session:
        from diemcau.adapters.db.models import LectureRow

        session.get(LectureRow, LECTURE).status = "ready"  # type: ignore[union-attr]
    indexer.sync_lecture(index, settings, session_factory, stores_of(settings), LECTURE)
    assert [h.doc_name for h in index.search("chuyen doi so")] == ["nq.pdf"]


def test_reindex_rebuilds_documents_too(  # type: ignore[no-untyped-def]
    settings, session_factory, index, lecture, tmp_path
) -> None:
    """Does ``diemcau search reindex`` (``reindex_all``) bring materials back, even for a lecture without a
    transcript, while a scan stays out?"""
    attach(settings, session_factory, index, make_pdf(tmp_path / "nq.pdf"))
    attach(settings, session_factory, index, make_scanned_pdf(tmp_path / "scan.pdf"))
    index.remove_lecture(LECTURE)
    assert index.search("chuyen doi so") == []
    report = indexer.reindex_all(settings, session_factory, stores_of(settings), index=index)
    assert (report.lectures, report.documents) == (1, 1)
    assert [h.doc_name for h in index.search("chuyen doi so")] == ["nq.pdf"]


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_receive_counts_the_limit_while_copying(settings) -> None:  # type: ignore[no-untyped-def]
    """Does the file store stop copying at the limit and leave no staging file behind?"""
    files = MaterialFiles(stores_of(settings).materials)
    with pytest.raises(MaterialError) as refused, files.receive(io.BytesIO(b"x" * 3000), max_bytes=2048):
        pass
    assert refused.value.code == "too_large" and refused.value.http_status == 413 and stored_files(settings) == []


def test_an_unreadable_file_stays_downloadable_with_its_reason(  # type: ignore[no-untyped-def]
    settings, session_factory, index, lecture, tmp_path
) -> None:
    """Is a PDF locked with a password (found only when its text is read, after the upload) kept as stored, its
    state the Vietnamese reason, and never searched?"""
    attached = attach(settings, session_factory, index, make_encrypted_pdf(tmp_path / "khoa.pdf"))
    assert attached.search == "encrypted_pdf" and attached.record.state == "encrypted_pdf"
    assert not attached.record.has_text and rows(session_factory) == 1 and len(stored_files(settings)) == 1
    assert MaterialError(attached.record.state).message() == t("materials.encrypted_pdf")
    assert index.search("đảng viên") == []


def test_the_transcription_job_takes_its_vocabulary_from_the_attached_materials(  # type: ignore[no-untyped-def]
    settings, session_factory, index, lecture, tmp_path
) -> None:
    """With ``transcription.document_vocabulary`` on, does the job give Whisper the resolution its attached PDF
    cites (issue 18), read from the stored material?"""
    attach(settings, session_factory, index, make_pdf(tmp_path / "nq57.pdf"))
    documents = document_texts(settings, session_factory, stores_of(settings).materials, LECTURE)  # as the job reads
    assert len(documents) == 1 and "57-NQ/TW" in documents[0]
    conf = settings.transcription.model_copy(update={"document_vocabulary": True})
    hotwords = options_from_settings(settings.model_copy(update={"transcription": conf}), documents).decoding.hotwords
    assert hotwords is not None and hotwords.startswith("Nghị quyết số 57-NQ/TW")
