"""Stage 2b: the text of a Word document (DOCX), page by page, with python-docx.

A DOCX has no fixed pages; Word records where its last layout broke them (``w:lastRenderedPageBreak``) when it
saves, and authors insert explicit page breaks (``w:br w:type="page"``). Pages here follow both, so a search hit
says roughly the page a member sees in Word. A file never laid out by Word (generated) is one page unless it
has explicit breaks. Body paragraphs and tables are read in document order; headers, footers and comments are
not (they repeat or are not the text).
"""

from __future__ import annotations

import logging
from pathlib import Path

import docx
from docx.oxml.ns import qn

from diemcau.materials.errors import MaterialError

log = logging.getLogger(__name__)

_P, _T, _TAB, _BR = qn("w:p"), qn("w:t"), qn("w:tab"), qn("w:br")
_RENDERED_BREAK, _BREAK_TYPE = qn("w:lastRenderedPageBreak"), qn("w:type")


def docx_pages(path: Path) -> tuple[str, ...]:
    """The text of the DOCX at ``path``, one string per page."""
    try:
        body = docx.Document(str(path)).element.body
        return _pages(body)
    except Exception as error:  # noqa: BLE001 - a damaged package raises from zipfile, lxml or python-docx
        log.info("materials: unreadable DOCX %s: %r", path.name, error)
        raise MaterialError("corrupt_docx") from None


def _pages(body) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    pages: list[list[str]] = [[]]
    for element in body.iter(_P, _T, _TAB, _BR, _RENDERED_BREAK):
        tag = element.tag
        if tag == _P:
            pages[-1].append("\n")
        elif tag == _T:
            pages[-1].append(element.text or "")
        elif tag == _TAB:
            pages[-1].append(" ")
        elif tag == _RENDERED_BREAK or element.get(_BREAK_TYPE) == "page":
            pages.append([])
        else:  # a line break within a paragraph
            pages[-1].append("\n")
    texts = ["".join(parts).strip() for parts in pages]
    while len(texts) > 1 and not texts[-1]:  # a break at the very end opens no page
        texts.pop()
    return tuple(texts)
