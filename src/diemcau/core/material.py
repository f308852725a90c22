"""Lecture materials (the resolution text, slides) as the domain sees them: kinds, names, text (pure).

A material is a file a trainer attaches to a lecture: a PDF, a Word document (DOCX) or a PowerPoint deck
(PPTX). Its *kind* is decided from its content, never from its name. Its *name* is what members see and
download it as, unique within its lecture. Its text is a tuple of pages (PDF pages, DOCX pages as Word last
laid them out, PPTX slides), which search indexes as document hits.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

MAX_NAME_CHARS = 200
_FORBIDDEN_IN_NAMES = frozenset('/\\:*?"<>|')


class MaterialKind(StrEnum):
    """The three formats accepted, by what their bytes are."""

    PDF = "pdf"
    DOCX = "docx"
    PPTX = "pptx"


CONTENT_TYPES = {
    MaterialKind.PDF: "application/pdf",
    MaterialKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    MaterialKind.PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
KIND_LABELS = {MaterialKind.PDF: "PDF", MaterialKind.DOCX: "Word (DOCX)", MaterialKind.PPTX: "PowerPoint (PPTX)"}


@dataclass(frozen=True)
class MaterialText:
    """What extraction found in a file: its kind and the text of each page (or slide), in order."""

    kind: MaterialKind
    pages: tuple[str, ...]

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def chars(self) -> int:
        """Letters of text (what ``text_chars`` stores): 0 for a scan, even one with a stray page number."""
        return sum(ch.isalpha() for page in self.pages for ch in page)

    @property
    def has_text(self) -> bool:
        """Is there any letter to search? A scanned PDF without a text layer has none."""
        return self.chars > 0


def clean_name(raw: str) -> str | None:
    """The material name a member will see for the uploaded file name ``raw``, or ``None`` if unusable.

    Browsers may send a full path (old Internet Explorer does): only its last part counts. The name is NFC
    (so "ả" typed two ways is one name), without control characters or characters file systems refuse,
    at most ``MAX_NAME_CHARS`` long, and not a dot-file.
    """
    base = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = " ".join(base.split())
    if not base or base.startswith(".") or len(base) > MAX_NAME_CHARS:
        return None
    if any(ch in _FORBIDDEN_IN_NAMES or unicodedata.category(ch).startswith("C") for ch in base):
        return None
    return base


def stored_file_name(name: str, sha256: str, kind: MaterialKind) -> str:
    """The file name on disk of material ``name`` with content ``sha256``: ASCII, safe, and new for new content,
    so replacing a material writes a new file beside the old one and never overwrites what a row points to."""
    return f"{hashlib.sha256(name.encode('utf-8')).hexdigest()[:16]}-{sha256[:16]}.{kind.value}"


def normal_name(raw: str) -> str:
    """A material name as looked up (NFC), so a name typed or linked in either Unicode form finds it."""
    return unicodedata.normalize("NFC", raw)


def mb_label(size: int) -> str:
    """Bytes as MB in a Vietnamese message: whole from 10 MB up (``50``), one decimal from 1 MB (``2,5``), two
    significant digits below (``0,5``, ``0,048``), with a decimal comma."""
    value = size / (1 << 20)
    if value >= 10 or value == int(value):
        return f"{value:.0f}"
    return (f"{value:.1f}" if value >= 1 else f"{value:.2g}").replace(".", ",")


def size_label(size: int) -> str:
    """A file size as members read it: ``850 KB``, ``1,2 MB`` (decimal comma, as written in Vietnamese)."""
    if size < 1 << 20:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1 << 20):.1f}".replace(".", ",") + " MB"
