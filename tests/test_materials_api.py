"""The material routes through the real app: a trainer attaches, members of the audience list, download and find
the text in search, the player shows the "Tài liệu" block, and every bad file is refused leaving nothing.

The two tests that run the reading job (queued by the upload, or again by a worker's start) run on both job
queues, SQLite and Redis (``queue_backend``); the others do not depend on the queue."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.models_materials import LectureMaterialRow
from diemcau.adapters.storage import stores_of
from diemcau.core.material import mb_label
from diemcau.i18n import t
from diemcau.settings import Settings
from diemcau.jobs import material_task
from diemcau.jobs.context import install
from diemcau.jobs.publish import drain_queue
from diemcau.materials.attach import AttachRequest, attach_material
from tests.apiclient import PREFIX, auth, seeded_client
from tests.material_fixtures import (
    make_broken_docx,
    make_docx,
    make_encrypted_pdf,
    make_exe,
    make_pdf,
    make_random,
    make_scanned_pdf,
    make_truncated_zip,
    stored_files,
)
from tests.media_fixtures import seed_lecture_media
from tests.queue_support import QUEUE_BACKENDS
from tests.quiz_support import sharing_database
from tests.transcript_fixtures import LECTURE_ID, seed_lecture_transcript

MATERIALS = f"{PREFIX}/api/lectures/{LECTURE_ID}/materials"
NAME = "Nghị quyết 57.pdf"


@pytest.fixture
def client(settings: Settings, sqlite_factory: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    """The app on the seeded province with a ready lecture (transcript and media) of cell A1's course."""
    return _client(settings, sqlite_factory)


def _client(settings: Settings, factory: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    test_client, _ = seeded_client(sharing_database(settings, factory), factory)
    seed_lecture_transcript(settings.transcripts_dir, factory)
    seed_lecture_media(settings, factory)
    return test_client


def upload(  # type: ignore[no-untyped-def]
    client, path: Path, role: str = "trainer", name: str | None = None, replace: bool = False
):
    files = {"file": (name or path.name, path.read_bytes(), "application/octet-stream")}
    params = {"replace": "true"} if replace else {}
    return client.post(MATERIALS, files=files, params=params, headers=auth(role))


def read_queued(settings: Settings, factory: sessionmaker[Session]) -> None:
    """Run the queued jobs (the materials' text reading) here, as ``--wait`` does without a worker."""
    drain_queue(sharing_database(settings, factory), stop=lambda: False)


def listed(client, name: str) -> dict:  # type: ignore[no-untyped-def]
    """The material ``name`` as a trainer lists it."""
    return next(m for m in client.get(MATERIALS, headers=auth("trainer")).json() if m["name"] == name)


def rows(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(LectureMaterialRow)) or 0


@pytest.mark.parametrize("queue_backend", QUEUE_BACKENDS)
def test_trainer_attaches_member_downloads_and_finds_it(  # type: ignore[no-untyped-def]
    client, settings, sqlite_factory, tmp_path, queue_backend
) -> None:
    """Can a trainer attach a PDF that a member of the audience then lists, downloads and — once the background
    job has read it — finds with search?"""
    source = make_pdf(tmp_path / NAME)
    response = upload(client, source)
    assert response.status_code == 201, response.text
    body = response.json()  # answered before any text was read: the job does it
    assert (body["name"], body["kind"], body["pages"], body["searchable"]) == (NAME, "pdf", 0, False)
    assert (body["search"], body["state"]) == ("processing", "processing")
    assert body["replaced"] is False and body["notice"] == t("materials.processing")
    assert client.get(f"{PREFIX}/api/search", params={"q": "chuyen doi so"}, headers=auth("member")).json() == []
    read_queued(settings, sqlite_factory)
    ready = listed(client, NAME)
    assert (ready["pages"], ready["searchable"], ready["state"], ready["note"]) == (2, True, "ready", "")

    shown = client.get(MATERIALS, headers=auth("member")).json()
    assert [(m["name"], m["kind_label"], m["url"]) for m in shown] == [(NAME, "PDF", f"{MATERIALS}/{quote(NAME)}")]
    download = client.get(shown[0]["url"], headers=auth("member"))
    assert download.status_code == 200 and download.content == source.read_bytes()
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == f"attachment; filename*=utf-8''{quote(NAME)}"
    partial = client.get(shown[0]["url"], headers=auth("member", Range="bytes=0-4"))
    assert partial.status_code == 206 and partial.content == b"%PDF-"

    hits = client.get(f"{PREFIX}/api/search", params={"q": "chuyen doi so"}, headers=auth("member")).json()
    assert [(h["kind"], h["doc_name"], h["page"]) for h in hits] == [("document", NAME, 2)]
    page = client.get(hits[0]["link"], headers=auth("member", Accept="text/html"))
    assert page.status_code == 200
    html = page.text
    assert t("materials.heading") in html and 'id="doc-hit"' in html and t("materials.open_page", page=2) in html
    assert f"{MATERIALS}/{quote(NAME)}?inline=true#page=2" in html
    inline = client.get(f"{MATERIALS}/{quote(NAME)}", params={"inline": "true"}, headers=auth("member"))
    assert inline.headers["content-disposition"].startswith("inline;")


def test_player_lists_materials_without_a_search_hit(  # type: ignore[no-untyped-def]
    client, settings, sqlite_factory, tmp_path
) -> None:
    """Does the player show the block with each material's size, pages and a scan's warning, and ignore a
    ``?doc=`` that names no material?"""
    upload(client, make_docx(tmp_path / "van-ban.docx"))
    upload(client, make_scanned_pdf(tmp_path / "ban-quet.pdf"))
    html = client.get(f"{PREFIX}/lectures/{LECTURE_ID}", headers=auth("member")).text
    assert html.count(t("materials.reading")) == 2  # not read yet: neither is called a scan
    read_queued(settings, sqlite_factory)
    html = client.get(f"{PREFIX}/lectures/{LECTURE_ID}?doc=khong-co&page=x", headers=auth("member")).text
    assert "van-ban.docx" in html and "ban-quet.pdf" in html and "Word (DOCX)" in html
    assert t("materials.not_searchable") in html and 'id="doc-hit"' not in html


def test_no_materials_no_block(client) -> None:  # type: ignore[no-untyped-def]
    """Does a lecture without materials show no empty "Tài liệu" heading?"""
    html = client.get(f"{PREFIX}/lectures/{LECTURE_ID}", headers=auth("member")).text
    assert 'id="materials"' not in html


def test_members_cannot_attach_or_remove(  # type: ignore[no-untyped-def]
    client, settings, sqlite_factory, tmp_path
) -> None:
    """Are a member's upload and removal refused (403), leaving nothing?"""
    refused = upload(client, make_pdf(tmp_path / NAME), role="member")
    assert refused.status_code == 403 and stored_files(settings) == [] and rows(sqlite_factory) == 0
    upload(client, make_pdf(tmp_path / NAME))
    assert client.delete(f"{MATERIALS}/{quote(NAME)}", headers=auth("member")).status_code == 403
    assert rows(sqlite_factory) == 1


def test_members_outside_the_audience_see_nothing(client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Does a member of another cell get 404 for the list and the download, as if the lecture did not exist?"""
    upload(client, make_pdf(tmp_path / NAME))
    assert client.get(MATERIALS, headers=auth("other_cell")).status_code == 404
    assert client.get(f"{MATERIALS}/{quote(NAME)}", headers=auth("other_cell")).status_code == 404


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        (lambda d: make_truncated_zip(d / "hong.docx", make_docx(d / "nguyen.docx")), 422, "corrupt_package"),
        (lambda d: make_exe(d / "chuong-trinh.pdf"), 422, "not_supported"),
        (lambda d: make_random(d / "ngau-nhien.pdf"), 422, "not_supported"),
        (lambda d: _empty(d / "rong.pdf"), 422, "empty"),
    ],
    ids=["corrupt-zip", "exe", "random", "empty"],
)
def test_bad_files_are_refused_in_vietnamese(  # type: ignore[no-untyped-def]
    client, settings, sqlite_factory, tmp_path, make, status, code
) -> None:
    """Is each file whose first bytes already show it unusable refused at upload with its Vietnamese reason, with
    no file and no row left?"""
    response = upload(client, make(tmp_path))
    assert response.status_code == status
    assert response.json()["detail"] == t(f"materials.{code}")
    assert stored_files(settings) == [] and rows(sqlite_factory) == 0


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda d: make_encrypted_pdf(d / "khoa.pdf"), "encrypted_pdf"),
        (lambda d: _cut_pdf(d / "hong.pdf"), "corrupt_pdf"),
        (lambda d: make_broken_docx(d / "hong-xml.docx"), "corrupt_docx"),
    ],
    ids=["encrypted", "corrupt-pdf", "corrupt-docx"],
)
def test_files_found_unreadable_by_the_job_say_why_in_vietnamese(  # type: ignore[no-untyped-def]
    client, settings, sqlite_factory, tmp_path, make, code
) -> None:
    """Is a file that only reading shows unusable stored at once, then marked by the job with its Vietnamese
    reason for the trainer, kept out of search?"""
    path = make(tmp_path)
    assert upload(client, path).status_code == 201
    read_queued(settings, sqlite_factory)
    material = listed(client, path.name)
    assert (material["state"], material["searchable"], material["note"]) == (code, False, t(f"materials.{code}"))
    assert rows(sqlite_factory) == 1


@pytest.mark.parametrize("extra", [1024, 200_000], ids=["just-over", "far-over"])
def test_oversized_files_are_refused(  # type: ignore[no-untyped-def]
    settings, sqlite_factory, tmp_path, extra: int
) -> None:
    """Is a file over ``materials.max_bytes`` refused with 413 and the limit in the message — counted while
    copying when just over, and from the request's length before reading when far over?"""
    small = settings.model_copy(update={"materials": settings.materials.model_copy(update={"max_bytes": 50_000})})
    client = _client(small, sqlite_factory)
    path = make_pdf(tmp_path / NAME)
    path.write_bytes(path.read_bytes() + b"\0" * (50_000 - path.stat().st_size + extra))
    response = upload(client, path)
    assert response.status_code == 413
    assert response.json()["detail"] == t("materials.too_large", max_mb=mb_label(50_000))
    assert stored_files(small) == [] and rows(sqlite_factory) == 0


def test_duplicate_names_need_replace(  # type: ignore[no-untyped-def]
    client, settings, sqlite_factory, tmp_path
) -> None:
    """Is a second upload under the same name refused (409) unless ``replace=true``, which swaps the file?"""
    first = upload(client, make_pdf(tmp_path / NAME)).json()
    newer = make_pdf(tmp_path / "moi.pdf", ("Kinh tế tư nhân là động lực quan trọng.",))
    refused = upload(client, newer, name=NAME)
    assert refused.status_code == 409 and refused.json()["detail"] == t("materials.duplicate", name=NAME)
    replaced = upload(client, newer, name=NAME, replace=True)
    assert replaced.status_code == 201 and replaced.json()["replaced"] is True
    assert replaced.json()["sha256"] != first["sha256"]
    assert rows(sqlite_factory) == 1 and len(stored_files(settings)) == 1
    read_queued(settings, sqlite_factory)
    hits = client.get(f"{PREFIX}/api/search", params={"q": "kinh te tu nhan"}, headers=auth("member")).json()
    assert [h["doc_name"] for h in hits] == [NAME]


def test_trainer_removes_a_material(client, settings, sqlite_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Does DELETE remove the file, the row and the search passages, and 404 the second time?"""
    upload(client, make_pdf(tmp_path / NAME))
    url = f"{MATERIALS}/{quote(NAME)}"
    assert client.delete(url, headers=auth("trainer")).status_code == 204
    assert stored_files(settings) == [] and rows(sqlite_factory) == 0
    assert client.get(f"{PREFIX}/api/search", params={"q": "chuyen doi so"}, headers=auth("member")).json() == []
    second = client.delete(url, headers=auth("trainer"))
    assert second.status_code == 404 and second.json()["detail"] == t("materials.not_found", name=NAME)


def test_scan_upload_says_it_is_not_searchable(  # type: ignore[no-untyped-def]
    client, settings, sqlite_factory, tmp_path
) -> None:
    """Once read, does a scanned PDF say, in Vietnamese, that members can download but not search it?"""
    upload(client, make_scanned_pdf(tmp_path / "ban-quet.pdf"))
    read_queued(settings, sqlite_factory)
    body = listed(client, "ban-quet.pdf")
    assert (body["searchable"], body["state"], body["note"]) == (False, "ready", t("materials.no_text"))


def test_upload_without_a_file_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    """Is a request with no file part refused with the instruction to choose one?"""
    response = client.post(MATERIALS, data={"other": "x"}, headers=auth("trainer"))
    assert response.status_code == 422 and response.json()["detail"] == t("materials.file_required")


def test_unknown_lecture_is_404_for_a_trainer(client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Is an upload to a lecture that does not exist a 404, not a stored orphan?"""
    path = make_pdf(tmp_path / NAME)
    response = client.post(
        f"{PREFIX}/api/lectures/khongco/materials", files={"file": (NAME, path.read_bytes())}, headers=auth("trainer")
    )
    assert response.status_code == 404


def _cut_pdf(path: Path) -> Path:
    data = make_pdf(path).read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize("queue_backend", QUEUE_BACKENDS)
def test_a_material_whose_job_was_lost_is_read_when_a_worker_starts(  # type: ignore[no-untyped-def]
    client, settings, sqlite_factory, tmp_path, queue_backend
) -> None:
    """If the API dies between storing a material and queuing its job, does the next worker's start-up queue it,
    so it still becomes searchable?"""
    shared = sharing_database(settings, sqlite_factory)
    source = make_pdf(tmp_path / NAME)
    with source.open("rb") as stream:  # stored as the upload does, and no job queued
        attach_material(
            shared, sqlite_factory, stores_of(shared).materials, AttachRequest(LECTURE_ID, NAME, "b1002"), stream
        )
    read_queued(settings, sqlite_factory)
    assert listed(client, NAME)["state"] == "processing"  # nothing was queued
    install(shared)
    material_task.requeue_processing()  # what a worker runs when it starts
    read_queued(settings, sqlite_factory)
    assert (listed(client, NAME)["state"], listed(client, NAME)["searchable"]) == ("ready", True)


@pytest.mark.parametrize("queue_backend", QUEUE_BACKENDS)
def test_the_recovery_sweep_requeues_a_lost_reading_once_and_a_duplicate_reads_nothing_twice(  # type: ignore[no-untyped-def]
    client, settings, sqlite_factory, tmp_path, queue_backend
) -> None:
    """A material whose job was lost while the workers ran (a Redis restarted without persistence, a queue the API
    could not reach): does the periodic sweep, not only a worker's start, queue it again — once, however often it
    sweeps while the job waits — and does a copy of a job whose material was read meanwhile do nothing?"""
    shared = sharing_database(settings, sqlite_factory)
    with make_pdf(tmp_path / NAME).open("rb") as stream:  # stored as the upload does, and no job queued
        attach_material(
            shared, sqlite_factory, stores_of(shared).materials, AttachRequest(LECTURE_ID, NAME, "b1002"), stream
        )
    ctx = install(shared)
    assert material_task.requeue_lost(ctx) == []  # just uploaded: its reading may still be under way
    lost = material_task.requeue_lost(ctx, grace_seconds=0)
    assert [record.name for record in lost] == [NAME]
    assert material_task.requeue_lost(ctx, grace_seconds=0) == []  # its call waits in the queue: not queued twice
    read_queued(settings, sqlite_factory)
    assert (listed(client, NAME)["state"], listed(client, NAME)["searchable"]) == ("ready", True)
    assert material_task.requeue_lost(ctx, grace_seconds=0) == []  # read: nothing to sweep

    record = lost[0]  # a copy queued before the first was read finds the material read, and reads nothing
    assert material_task.read_material_text.call_local(record.lecture_id, record.name, record.sha256) == "superseded"
