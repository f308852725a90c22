"""What a lecture's materials add to its offline package: ``python bench/offline_materials.py [PAGES]``.

Makes typical trainer documents as the tests do (``tests/material_fixtures``): a resolution of ``PAGES`` pages
(default 30) of Vietnamese text as a PDF (fpdf2, the DejaVu font embedded) and as a DOCX, and a deck of
``PAGES // 2`` slides with notes, and prints each one's bytes, which is what the offline store adds (it keeps the
file exactly as the server sends it), beside the baseline: the one-hour lecture's audio package (Opus, 9.7 MB,
docs/benchmarks.md) and the 12 MB goal of issue 17.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.material_fixtures import make_docx, make_pdf, make_pptx  # noqa: E402

PARAGRAPH = (
    "Nghị quyết về đột phá phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia; "
    "mỗi đảng viên, mỗi chi bộ phải quán triệt sâu sắc và tổ chức thực hiện nghiêm túc. "
)
AUDIO_HOUR_MB = 9.7  # the Opus rendition of a one-hour lecture (docs/benchmarks.md, issue 17 item 1)
GOAL_MB = 12.0


def main(pages: int) -> None:
    text = tuple(PARAGRAPH * 12 for _ in range(pages))  # about one printed page of text each
    slides = tuple((f"Phần {i + 1}", PARAGRAPH, PARAGRAPH * 2) for i in range(pages // 2))
    with tempfile.TemporaryDirectory() as folder:
        made = [
            (f"PDF, {pages} pages", make_pdf(Path(folder) / "a.pdf", text)),
            (f"DOCX, {pages} pages", make_docx(Path(folder) / "a.docx", text)),
            (f"PPTX, {pages // 2} slides", make_pptx(Path(folder) / "a.pptx", slides)),
        ]
        print(f"baseline: one-hour audio package {AUDIO_HOUR_MB} MB; goal {GOAL_MB} MB")
        for label, path in made:
            mb = path.stat().st_size / 1e6
            print(f"{label:18} {mb:6.3f} MB  package {AUDIO_HOUR_MB + mb:5.2f} MB  (+{100 * mb / AUDIO_HOUR_MB:.1f} %)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
