"""The extraction pipeline: sniff the kind from the bytes, then read each page's text with that kind's reader.

Stages, in order (each its own module):

1. ``sniff``     — PDF, DOCX or PPTX from the content (or a refusal: not one of those, encrypted, damaged);
2. ``pdf_text`` / ``docx_text`` / ``pptx_text`` — the text of each page or slide, with pypdf, python-docx,
   python-pptx;
3. ``clean_text`` (here) — NFC, line breaks unified, control characters dropped (PostgreSQL refuses NUL in
   text, and a PDF's text layer may carry any byte).

The result is a ``core.material.MaterialText``; a file that cannot be used raises ``MaterialError``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

from diemcau.core.material import MaterialKind, MaterialText
from diemcau.materials.docx_text import docx_pages
from diemcau.materials.pdf_text import pdf_pages
from diemcau.materials.pptx_text import pptx_slides
from diemcau.materials.sniff import sniff

READERS: dict[MaterialKind, Callable[[Path], tuple[str, ...]]] = {
    MaterialKind.PDF: pdf_pages,
    MaterialKind.DOCX: docx_pages,
    MaterialKind.PPTX: pptx_slides,
}
_LINE_BREAKS = re.compile(r"\r\n?|[\v\f\u2028\u2029\x85]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """``text`` in NFC with every line break as ``\\n`` and no other control character than tab."""
    return _CONTROL.sub("", _LINE_BREAKS.sub("\n", unicodedata.normalize("NFC", text))).strip()


def extract(path: Path, max_unpacked_bytes: int) -> MaterialText:
    """The kind and page texts of the file at ``path``; ``MaterialError`` when it cannot be used."""
    kind = sniff(path, max_unpacked_bytes)
    return MaterialText(kind, tuple(clean_text(page) for page in READERS[kind](path)))
