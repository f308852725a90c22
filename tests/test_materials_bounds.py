"""Reading a material's text under its bounds: a document built to exhaust the reader — many pages sharing one
heavy content stream, or one small stream that inflates to tens of megabytes — is cut off in its child process,
kept for download with a Vietnamese note for the trainer, and never indexed; the API answers its upload at once."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from diemcau.core.material import MaterialKind
from diemcau.i18n import t
from diemcau.materials.bounded import Bounds, extract_bounded
from diemcau.materials.errors import MaterialError
from diemcau.settings import Settings
from tests.apiclient import PREFIX, auth
from tests.material_fixtures import bomb_pdf, make_pdf, text_ops
from tests.test_materials_api import MATERIALS, _client, listed, read_queued, upload

MEMORY = 256 * 2**20


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
