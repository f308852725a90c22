"""How long a trainer waits for a material's text: ``python bench/materials_extract.py [PAGES]``.

Makes a long resolution text (``PAGES`` pages of Vietnamese, default 200) as a PDF (fpdf2, DejaVu font) and a
DOCX (page breaks), and a deck of ``PAGES // 4`` slides, then times ``materials.extract.extract`` on each (best
of 3). Baseline: copying and hashing the same file into the staging folder (``MaterialFiles.receive``), the
part of an upload that any design pays. Prints figure, baseline and ratio per format.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from diemcau.adapters.material_files import MaterialFiles  # noqa: E402
from diemcau.materials.extract import extract  # noqa: E402
from tests.material_fixtures import make_docx, make_pdf, make_pptx  # noqa: E402

PARAGRAPH = (
    "Nghị quyết về đột phá phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia; "
    "mỗi đảng viên, mỗi chi bộ phải quán triệt sâu sắc và tổ chức thực hiện nghiêm túc. "
)


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of ``runs`` timings of ``work`` (seconds): the least disturbed by other load."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return min(timings)


def receive(folder: Path, path: Path) -> None:
    with path.open("rb") as stream, MaterialFiles(folder).receive(stream, 1 << 30):
        pass


def main() -> None:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    texts = tuple(f"Trang {n}. " + PARAGRAPH * 12 for n in range(1, pages + 1))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        slides = tuple((f"Slide {n}", PARAGRAPH, PARAGRAPH) for n in range(pages // 4))
        files = {
            "pdf": make_pdf(root / "nq.pdf", texts),
            "docx": make_docx(root / "nq.docx", texts),
            "pptx": make_pptx(root / "slides.pptx", slides),
        }
        print(
            f"{'format':<6} {'pages':>5} {'MB':>6} {'extract s':>10} {'copy+hash s':>12} {'ratio':>7} {'chars/s':>10}"
        )
        for kind, path in files.items():
            text = extract(path, 1 << 30)
            figure = best_of(3, lambda p=path: extract(p, 1 << 30))
            baseline = best_of(3, lambda p=path: receive(root / "store", p))
            size = path.stat().st_size / (1 << 20)
            print(
                f"{kind:<6} {text.page_count:>5} {size:>6.2f} {figure:>10.3f} {baseline:>12.4f} "
                f"{figure / baseline:>6.0f}× {text.chars / figure:>10.0f}"
            )


if __name__ == "__main__":
    main()
