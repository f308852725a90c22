"""Stage 2a: the text of each page of a PDF, with pypdf.

A PDF protected by a password that must be typed to open it is refused (``encrypted_pdf``): the platform cannot
read it, and members could not open it either. A PDF with only an *owner* password (printing or copying
restricted, but it opens without a password) is read: pypdf opens it with the empty user password.

pypdf reads leniently: a damaged page gives empty text (logged) rather than losing the whole document, but a
file that cannot be parsed at all, has no pages, or whose every page fails is refused (``corrupt_pdf``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from diemcau.materials.errors import MaterialError

log = logging.getLogger(__name__)


def pdf_pages(path: Path) -> tuple[str, ...]:
    """The text of each page of the PDF at ``path`` (``""`` for a page without a text layer)."""
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not _opens_without_password(reader):
            raise MaterialError("encrypted_pdf")
        pages = list(reader.pages)
    except (MaterialError, MemoryError):  # a MemoryError is the bound of materials.bounded, not a damaged file
        raise
    except FileNotDecryptedError:
        raise MaterialError("encrypted_pdf") from None
    except Exception as error:  # noqa: BLE001 - pypdf raises many kinds on damaged files; all mean "unreadable"
        log.info("materials: unreadable PDF %s: %r", path.name, error)
        raise MaterialError("corrupt_pdf") from None
    texts, failures = _texts(pages)
    if not pages or failures == len(pages):
        raise MaterialError("corrupt_pdf")
    return texts


def _opens_without_password(reader: PdfReader) -> bool:
    try:
        return reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except (DependencyError, NotImplementedError):  # an encryption pypdf cannot undo here: as good as locked
        return False


def _texts(pages: list) -> tuple[tuple[str, ...], int]:
    """Each page's text, and how many pages failed."""
    texts: list[str] = []
    failures = 0
    for number, page in enumerate(pages, start=1):
        try:
            texts.append(page.extract_text() or "")
        except MemoryError:
            raise
        except Exception as error:  # noqa: BLE001 - one damaged page must not lose the others
            log.warning("materials: PDF page %d unreadable: %r", number, error)
            texts.append("")
            failures += 1
    return tuple(texts), failures
