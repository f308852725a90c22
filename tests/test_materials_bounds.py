"""Reading a material's text under its bounds: a document built to exhaust the reader — many pages sharing one
heavy content stream, or one small stream that inflates to tens of megabytes — is cut off in its child process,
kept for download with a Vietnamese note for the trainer, and never indexed; the API answers its upload at once."""

from __future__ import annotations

import zlib
from pathlib import Path
from urllib.parse import quote

import pytest

from diemcau.core.material import MaterialKind
from diemcau.i18n import t
from diemcau.materials.bounded import Bounds, extract_bounded
from diemcau.materials.errors import MaterialError
from diemcau.settings import Settings
from tests.apiclient import PREFIX, auth
from tests.material_fixtures import make_pdf
from tests.test_materials_api import MATERIALS, _client, listed, read_queued, upload

MEMORY = 256 * 2**20


def bomb_pdf(path: Path, pages: int, stream: bytes, compress: bool = False) -> Path:
    """A valid PDF of ``pages`` pages that all draw the same content ``stream`` (written once): a few kilobytes
    on disk, ``pages`` times the stream's work for a text extractor."""
    body = zlib.compress(stream, 9) if compress else stream
    filters = b"/Filter /FlateDecode " if compress else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (5 + n) for n in range(pages)) + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< " + filters + b"/Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    objects += [page] * pages
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def text_ops(lines: int) -> bytes:
    """A content stream that shows ``lines`` lines of Vietnamese-ish text."""
    return b"BT /F1 10 Tf 20 800 Td " + b"(Nghi quyet so 57 ve chuyen doi so) Tj 0 -1 Td " * lines + b"ET"


def test_a_small_bomb_still_reads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Is the generator's document a real PDF whose text the bounded reader finds (so the cut-offs below are
    the bounds at work, not a file it cannot parse)?"""
    path = bomb_pdf(tmp_path / "nho.pdf", pages=3, stream=text_ops(2))
    text = extract_bounded(path, MaterialKind.PDF, 2**30, Bounds(MEMORY, 60))
    assert text.page_count == 3 and "chuyen doi so" in text.pages[2]


def test_many_pages_are_cut_off_by_the_time_bound(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Is a 20,000-page PDF (200 KB on disk) cut off by the CPU bound as ``too_big``?"""
    path = bomb_pdf(tmp_path / "bom.pdf", pages=20_000, stream=text_ops(200))
    with pytest.raises(MaterialError) as cut:
        extract_bounded(path, MaterialKind.PDF, 2**30, Bounds(MEMORY, 1))
    assert cut.value.code == "too_big" and cut.value.message() == t("materials.too_big")


def test_a_stream_that_inflates_is_cut_off_by_the_memory_bound(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Is a one-page PDF whose 100 KB content stream inflates to ~60 MB of text cut off by the memory bound
    (here 192 MiB of address space, ~110 MiB past the reader's own) long before its time bound?"""
    path = bomb_pdf(tmp_path / "phong.pdf", pages=1, stream=text_ops(1_300_000), compress=True)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(MaterialError) as cut:
        extract_bounded(path, MaterialKind.PDF, 2**30, Bounds(192 * 2**20, 600))
    assert cut.value.code == "too_big"


def test_the_upload_answers_at_once_and_the_bomb_stays_downloadable(  # type: ignore[no-untyped-def]
    settings: Settings, sqlite_factory, tmp_path
) -> None:
    """Does the API store a bomb and answer 201 without reading it, and the job then mark it ``too_big`` with
    the Vietnamese note, downloadable but not in search, while a normal material beside it is searchable?"""
    bounded = settings.model_copy(update={"materials": settings.materials.model_copy(update={"extract_seconds": 1})})
    client = _client(bounded, sqlite_factory)
    bomb = bomb_pdf(tmp_path / "bom.pdf", pages=20_000, stream=text_ops(200))
    answer = upload(client, bomb)
    assert answer.status_code == 201 and answer.json()["state"] == "processing"
    upload(client, make_pdf(tmp_path / "nq.pdf"))
    read_queued(bounded, sqlite_factory)
    material = listed(client, "bom.pdf")
    assert (material["state"], material["searchable"], material["note"]) == ("too_big", False, t("materials.too_big"))
    download = client.get(f"{MATERIALS}/{quote('bom.pdf')}", headers=auth("member"))
    assert download.status_code == 200 and download.content == bomb.read_bytes()
    hits = client.get(f"{PREFIX}/api/search", params={"q": "chuyen doi so"}, headers=auth("member")).json()
    assert [h["doc_name"] for h in hits] == ["nq.pdf"]
