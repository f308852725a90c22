"""Extraction of lecture materials: the kind from the bytes, the text of each page, and each refusal's message."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement

from diemcau.core.material import MaterialKind, MaterialText, clean_name, mb_label, size_label, stored_file_name
from diemcau.materials.errors import MaterialError
from diemcau.materials.extract import clean_text, extract
from diemcau.materials.sniff import OLE_MAGIC, sniff
from tests.material_fixtures import (
    NQ57_PAGES,
    make_broken_docx,
    make_docx,
    make_encrypted_pdf,
    make_exe,
    make_pdf,
    make_plain_zip,
    make_pptx,
    make_random,
    make_scanned_pdf,
    make_truncated_zip,
)

NO_LIMIT = 1 << 30


def refusal(path: Path, limit: int = NO_LIMIT) -> MaterialError:
    with pytest.raises(MaterialError) as raised:
        extract(path, limit)
    return raised.value


def test_pdf_text_is_read_page_by_page(tmp_path: Path) -> None:
    """Does a PDF's text come back one string per page, Vietnamese intact (NFC)?"""
    text = extract(make_pdf(tmp_path / "nq.pdf"), NO_LIMIT)
    assert text == MaterialText(MaterialKind.PDF, NQ57_PAGES)
    assert text.page_count == 2 and text.has_text and "đảng viên" in text.pages[1]


def test_kind_comes_from_the_content_not_the_name(tmp_path: Path) -> None:
    """Is a PDF named .docx read as a PDF, and a DOCX named .pdf as a DOCX?"""
    pdf = make_pdf(tmp_path / "thuc-ra-la-pdf.docx")
    word = make_docx(tmp_path / "thuc-ra-la-word.pdf")
    assert sniff(pdf, NO_LIMIT) == MaterialKind.PDF
    assert extract(word, NO_LIMIT).kind == MaterialKind.DOCX


def test_docx_pages_follow_page_breaks_and_include_tables(tmp_path: Path) -> None:
    """Does a DOCX split at its page breaks (explicit and Word's rendered ones), tables included?"""
    path = make_docx(tmp_path / "nq.docx", table=("Chỉ tiêu", "100% đảng viên"))
    document = docx.Document(str(path))
    run = document.add_paragraph().add_run()
    run._r.append(OxmlElement("w:lastRenderedPageBreak"))  # what Word writes where its layout broke the page
    run.add_text("Trang ba theo bố cục của Word.")
    document.save(str(path))
    pages = extract(path, NO_LIMIT).pages
    assert pages[0] == NQ57_PAGES[0]
    assert pages[1].startswith(NQ57_PAGES[1]) and "Chỉ tiêu\n100% đảng viên" in pages[1]
    assert pages[2] == "Trang ba theo bố cục của Word."


def test_pptx_gives_one_page_per_slide_with_notes_and_groups(tmp_path: Path) -> None:
    """Does each slide's text (title, body, grouped shapes, speaker notes) form one page?"""
    slides = (("Đột phá khoa học", "Ba trụ cột", "Ghi chú của báo cáo viên"), ("Chuyển đổi số", "Dữ liệu", ""))
    text = extract(make_pptx(tmp_path / "slides.pptx", slides), NO_LIMIT)
    assert text.kind == MaterialKind.PPTX
    assert text.pages == (
        "Đột phá khoa học\nBa trụ cột\nGhi chú của báo cáo viên",
        "Chuyển đổi số\nDữ liệu\nHộp chữ trong nhóm",
    )


def test_scanned_pdf_is_accepted_without_text(tmp_path: Path) -> None:
    """Is a scan (no text layer) read as a PDF with pages but nothing to search?"""
    text = extract(make_scanned_pdf(tmp_path / "scan.pdf"), NO_LIMIT)
    assert text.kind == MaterialKind.PDF and text.page_count == 1
    assert not text.has_text and text.chars == 0


def test_pdf_that_needs_a_password_is_refused(tmp_path: Path) -> None:
    """Is a PDF that asks for a password to open refused with the Vietnamese instruction to remove it?"""
    error = refusal(make_encrypted_pdf(tmp_path / "khoa.pdf"))
    assert error.code == "encrypted_pdf" and error.http_status == 422
    assert "mật khẩu" in error.message() and "gỡ mật khẩu" in error.message()


def test_pdf_with_only_an_owner_password_is_read(tmp_path: Path) -> None:
    """Is a PDF restricted by an owner password, but opening without one, read like any other?"""
    assert extract(make_encrypted_pdf(tmp_path / "han-che.pdf", user_password=""), NO_LIMIT).pages == NQ57_PAGES


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda d: _truncated_pdf(d / "cut.pdf"), "corrupt_pdf"),
        (lambda d: make_truncated_zip(d / "cut.docx", make_docx(d / "whole.docx")), "corrupt_package"),
        (lambda d: make_broken_docx(d / "hong.docx"), "corrupt_docx"),
        (lambda d: _broken_pptx(d / "hong.pptx"), "corrupt_pptx"),
        (lambda d: make_exe(d / "virus.pdf"), "not_supported"),
        (lambda d: make_random(d / "ngau-nhien.pdf"), "not_supported"),
        (lambda d: make_plain_zip(d / "luu-tru.docx"), "not_supported"),
        (lambda d: _ole(d / "cu.doc", b"WordDocument"), "legacy_office"),
        (lambda d: _ole(d / "khoa.docx", "EncryptedPackage".encode("utf-16-le")), "encrypted_office"),
    ],
    ids=[
        "truncated-pdf",
        "truncated-zip",
        "broken-docx-xml",
        "broken-pptx-xml",
        "exe-as-pdf",
        "random-bytes",
        "plain-zip",
        "legacy-doc",
        "encrypted-docx",
    ],
)
def test_unusable_files_are_refused_with_a_reason(  # type: ignore[no-untyped-def]
    tmp_path: Path, make, code: str
) -> None:
    """Is each damaged or foreign file refused with its own Vietnamese message?"""
    error = refusal(make(tmp_path))
    assert error.code == code
    assert error.message() != error.message("en") and "hãy" in error.message()


def test_empty_file_is_refused(tmp_path: Path) -> None:
    """Is a 0-byte file refused as empty rather than as an unknown format?"""
    (tmp_path / "rong.pdf").write_bytes(b"")
    assert refusal(tmp_path / "rong.pdf").code == "empty"


def test_package_unpacking_past_the_limit_is_refused(tmp_path: Path) -> None:
    """Is a DOCX that unpacks to more than the limit (a zip bomb) refused before any XML is parsed?"""
    path = make_docx(tmp_path / "bom.docx")
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("word/media/padding.bin", b"\0" * (3 << 20))  # 3 MiB that compress to a few KB
    error = refusal(path, limit=2 << 20)
    assert error.code == "unpacked_too_large" and "2 MB" in error.message()


def test_clean_text_drops_control_characters_and_unifies_breaks() -> None:
    """Is extracted text NFC, with NUL and other control characters gone and every break a newline?"""
    decomposed = "Đa\u0309ng"  # "Đảng" with a combining hook above
    assert clean_text(f" {decomposed}\x00 viên\r\nline\vtwo\x07 ") == "Đảng viên\nline\ntwo"


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Nghị quyết 57.pdf", "Nghị quyết 57.pdf"),
        ("C:\\Users\\a\\Slide bài 1.pptx", "Slide bài 1.pptx"),
        ("  nhiều    khoảng trắng.docx ", "nhiều khoảng trắng.docx"),
        ("Nghi\u0323 quyết.pdf", "Nghị quyết.pdf"),
        ("tab\there.pdf", "tab here.pdf"),
        (".an.pdf", None),
        ("", None),
        ("a:b.pdf", None),
        ("x" * 201, None),
        ("chuong\x07.pdf", None),
    ],
)
def test_material_names_are_cleaned(raw: str, name: str | None) -> None:
    """Is a browser's file name reduced to its base name in NFC, and an unusable one refused?"""
    assert clean_name(raw) == name


def test_stored_names_are_safe_and_change_with_content() -> None:
    """Is the stored file name ASCII, free of the material's name, and new for new content?"""
    first = stored_file_name("Nghị quyết/../57.pdf", "a" * 64, MaterialKind.PDF)
    assert first.isascii() and "/" not in first and first.endswith(".pdf")
    assert first != stored_file_name("Nghị quyết/../57.pdf", "b" * 64, MaterialKind.PDF)


def test_sizes_read_the_vietnamese_way() -> None:
    """Are sizes and limits shown with a decimal comma?"""
    assert size_label(900) == "1 KB" and size_label(1536 * 1024) == "1,5 MB"
    assert mb_label(50 << 20) == "50" and mb_label(5 << 19) == "2,5" and mb_label(1 << 19) == "0,5"
    assert mb_label(50_000) == "0,048"


def _truncated_pdf(path: Path) -> Path:
    data = make_pdf(path).read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def _broken_pptx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("ppt/presentation.xml", "<p:presentation><oops")
    return path


def _ole(path: Path, directory_entry: bytes) -> Path:
    """An OLE compound file's signature and a directory entry name: enough for the sniffer (not a full file)."""
    path.write_bytes(OLE_MAGIC + b"\0" * 504 + directory_entry + b"\0" * 1024)
    return path
