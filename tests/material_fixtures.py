"""Real material files for tests, generated with the libraries people make them with: fpdf2 (with a font that
renders Vietnamese), pypdf (encryption), python-docx, python-pptx and Pillow; and the broken files trainers
send by mistake (a damaged ZIP, random bytes, an .exe renamed .pdf)."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
import zlib
from pathlib import Path

import docx
from docx.enum.text import WD_BREAK
from fpdf import FPDF
from PIL import Image, ImageDraw
from pptx import Presentation
from pptx.util import Inches
from pypdf import PdfWriter
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.lectures import utcnow
from diemcau.adapters.db.models_materials import LectureMaterialRow
from diemcau.adapters.material_files import MaterialFiles
from diemcau.adapters.storage import stores_of
from diemcau.core.material import MaterialKind, stored_file_name
from diemcau.settings import Settings

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
NQ57_PAGES = (
    "Nghị quyết số 57-NQ/TW về đột phá phát triển khoa học, công nghệ, đổi mới sáng tạo.",
    "Chuyển đổi số quốc gia là động lực chính; mỗi đảng viên phải gương mẫu thực hiện.",
)
AUTHZ_MATERIAL = "Nghị quyết 57.pdf"  # the material the authorization matrix reads and deletes


def pdf_bytes(pages: tuple[str, ...] = NQ57_PAGES) -> bytes:
    """A PDF with a real text layer, one page per string (Vietnamese shaped by the DejaVu font)."""
    pdf = FPDF()
    pdf.add_font("body", "", FONT)
    pdf.set_font("body", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def make_pdf(path: Path, pages: tuple[str, ...] = NQ57_PAGES) -> Path:
    """Write ``pdf_bytes(pages)`` to ``path``."""
    path.write_bytes(pdf_bytes(pages))
    return path


def make_scanned_pdf(path: Path) -> Path:
    """A PDF of one page that is only a picture of text, as a scanner makes it (no text layer)."""
    image = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(image).text((20, 80), "NGHI QUYET 57 (scan)", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(buffer.getvalue()), x=10, y=10, w=180)
    path.write_bytes(bytes(pdf.output()))
    return path


def make_encrypted_pdf(path: Path, user_password: str = "matkhau", owner_password: str = "chu-so-huu") -> Path:
    """A text PDF encrypted with pypdf: ``user_password`` "" makes one that opens without a password."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf_bytes()))
    writer.encrypt(user_password=user_password, owner_password=owner_password)
    writer.write(path)
    return path


def make_docx(path: Path, pages: tuple[str, ...] = NQ57_PAGES, table: tuple[str, str] | None = None) -> Path:
    """A DOCX with one paragraph per page, explicit page breaks between them, and optionally a table row."""
    document = docx.Document()
    for number, text in enumerate(pages):
        if number:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        document.add_paragraph(text)
    if table is not None:
        cells = document.add_table(rows=1, cols=2).rows[0].cells
        cells[0].text, cells[1].text = table
    document.save(str(path))
    return path


def make_pptx(path: Path, slides: tuple[tuple[str, str, str], ...]) -> Path:
    """A PPTX with one slide per ``(title, body, notes)``; the last slide also gets a grouped text box."""
    deck = Presentation()
    for title, body, notes in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    group = deck.slides[-1].shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(6), Inches(4), Inches(1)).text_frame.text = "Hộp chữ trong nhóm"
    deck.save(str(path))
    return path


def make_truncated_zip(path: Path, source: Path) -> Path:
    """``source`` (a DOCX or PPTX) cut in half, as an interrupted download leaves it: the ZIP index is lost."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def make_broken_docx(path: Path) -> Path:
    """A ZIP that claims to be a DOCX (it has ``word/document.xml``) whose XML is garbage."""
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document><not xml")
    return path


def make_plain_zip(path: Path) -> Path:
    """An ordinary ZIP archive of a text file: not a document."""
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("ghi-chu.txt", "Không phải tài liệu Word.")
    return path


def make_exe(path: Path) -> Path:
    """A Windows executable's header (MZ … PE) renamed ``.pdf``."""
    header = b"MZ\x90\x00" + b"\x00" * 56 + b"\x80\x00\x00\x00"  # e_lfanew at 0x3C points at the PE header
    path.write_bytes(header + b"\x00" * 64 + b"PE\x00\x00" + os.urandom(512))
    return path


def make_random(path: Path, size: int = 4096) -> Path:
    """Random bytes."""
    path.write_bytes(os.urandom(size))
    return path


def seed_lecture_material(
    settings: Settings,
    factory: sessionmaker[Session],
    lecture_id: str,
    name: str = AUTHZ_MATERIAL,
    data: bytes | None = None,
) -> str:
    """A stored PDF material on a lecture, placed directly (file, then row), for routes that need one to exist:
    ``data`` (the file's bytes; by default ``pdf_bytes()``)."""
    data = pdf_bytes() if data is None else data
    sha256 = hashlib.sha256(data).hexdigest()
    stored = stored_file_name(name, sha256, MaterialKind.PDF)
    path = MaterialFiles(stores_of(settings).materials).path_of(lecture_id, stored)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    with transaction(factory) as session:
        session.add(
            LectureMaterialRow(
                lecture_id=lecture_id,
                name=name,
                kind="pdf",
                size=len(data),
                sha256=sha256,
                pages=len(NQ57_PAGES),
                text_chars=100,
                uploaded_by="t",
                uploaded_at=utcnow(),
            )
        )
    return name


def stored_files(settings: Settings) -> list[Path]:
    """Every file under the materials folder, staging included (a refused upload must leave none)."""
    root = stores_of(settings).materials.root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


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
