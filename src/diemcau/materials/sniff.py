"""Stage 1: what a file is, decided by its bytes (magic numbers and the package's parts), never by its name.

* PDF: ``%PDF-`` within the first 1024 bytes (the PDF specification allows leading junk there);
* DOCX / PPTX: a ZIP package holding ``word/document.xml`` / ``ppt/presentation.xml``;
* an OLE compound file (``D0 CF 11 E0``) is either a password-protected Office file (Office encrypts a DOCX or
  PPTX into an OLE file with an ``EncryptedPackage`` stream) or an old binary .doc/.ppt: each gets its own
  message, since the fix differs (remove the password; save as DOCX/PPTX);
* anything else (an .exe renamed .pdf, an image, a plain ZIP) is refused.

A package whose parts unpack to more than ``max_unpacked_bytes`` is refused before any XML is parsed, so a
"zip bomb" of a few MB cannot fill the memory of the API process.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from diemcau.core.material import MaterialKind, mb_label
from diemcau.materials.errors import MaterialError

PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # the stream's name in the OLE directory
PDF_HEADER_WINDOW = 1024
PACKAGE_PARTS = {"word/document.xml": MaterialKind.DOCX, "ppt/presentation.xml": MaterialKind.PPTX}


def sniff(path: Path, max_unpacked_bytes: int) -> MaterialKind:
    """The kind of the file at ``path``; ``MaterialError`` when it is none of PDF, DOCX, PPTX or cannot be read."""
    with path.open("rb") as handle:
        head = handle.read(PDF_HEADER_WINDOW)
    if not head:
        raise MaterialError("empty")
    if PDF_MAGIC in head:
        return MaterialKind.PDF
    if head.startswith(ZIP_MAGIC):
        return _package_kind(path, max_unpacked_bytes)
    if head.startswith(OLE_MAGIC):
        raise MaterialError("encrypted_office" if _holds(path, ENCRYPTED_PACKAGE) else "legacy_office")
    raise MaterialError("not_supported")


def _package_kind(path: Path, max_unpacked_bytes: int) -> MaterialKind:
    try:
        with zipfile.ZipFile(path) as package:
            members = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise MaterialError("corrupt_package") from None
    names = {member.filename for member in members}
    kinds = [kind for part, kind in PACKAGE_PARTS.items() if part in names]
    if not kinds:
        raise MaterialError("not_supported")
    if sum(member.file_size for member in members) > max_unpacked_bytes:
        raise MaterialError("unpacked_too_large", max_mb=mb_label(max_unpacked_bytes))
    return kinds[0]


def _holds(path: Path, needle: bytes, chunk: int = 1 << 20) -> bool:
    """Does the file contain ``needle`` (read in chunks that overlap by its length)?"""
    tail = b""
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            if needle in tail + block:
                return True
            tail = block[-len(needle) :]
    return False
