"""Stage 2c: the text of a PowerPoint deck (PPTX), one page per slide, with python-pptx.

A slide's text is its shapes' text frames and tables, groups included, in the order PowerPoint stores them
(roughly the order they were added, which is usually title first), followed by the speaker notes, which often
carry the substance of a lecture's slides.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from diemcau.materials.errors import MaterialError

log = logging.getLogger(__name__)


def pptx_slides(path: Path) -> tuple[str, ...]:
    """The text of the PPTX at ``path``, one string per slide (notes included)."""
    try:
        deck = Presentation(str(path))
        return tuple(_slide_text(slide) for slide in deck.slides)
    except Exception as error:  # noqa: BLE001 - a damaged package raises from zipfile, lxml or python-pptx
        log.info("materials: unreadable PPTX %s: %r", path.name, error)
        raise MaterialError("corrupt_pptx") from None


def _slide_text(slide) -> str:  # type: ignore[no-untyped-def]
    parts = list(_shape_texts(slide.shapes))
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        parts.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(part.strip() for part in parts if part.strip())


def _shape_texts(shapes: Iterable) -> Iterator[str]:
    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shape_texts(shape.shapes)
        elif getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                yield " ".join(cell.text for cell in row.cells)
        elif shape.has_text_frame:
            yield shape.text_frame.text
