"""What ``GET /api/lectures/{id}/transcript/suggestions`` costs in the API process, beside reading the materials:
aligning an hour's transcript to the lecture's documents (``asr.doc_align.align_to_documents``, pure).

The transcript is 720 segments of 5 s (one hour), each a sentence of the sample resolution of bench/asr_documents.py
with its tones dropped on every third word (as Whisper base garbles them), or one of the lecturer's own sentences;
the document is the sample resolution (``document_text``), ``--copies`` times with each sentence ending "theo
khoản K" so that they are all distinct (a longer resolution, of near-duplicate sentences: the worst case). Run: ``.venv/bin/python bench/doc_suggestions.py [--copies 4]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asr_documents import document_text  # noqa: E402

from diemcau.asr.doc_align import align_to_documents  # noqa: E402
from diemcau.core.transcript import Segment  # noqa: E402

OWN = "Hợp tác xã nông nghiệp của thôn đã bắt đầu bán nông sản qua sàn thương mại điện tử."


def _toneless(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def transcript(sentences: list[str], count: int = 720) -> tuple[Segment, ...]:
    """``count`` five-second segments: document sentences, garbled, with the lecturer's own between them."""
    segments = []
    for n in range(count):
        text = OWN if n % 3 == 2 else sentences[n % len(sentences)]
        words = [_toneless(w) if i % 3 == 0 else w for i, w in enumerate(text.split())]
        segments.append(Segment(n, 5.0 * n, 5.0 * n + 4.8, " ".join(words)))
    return tuple(segments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    base = document_text().splitlines()
    document = "\n".join(f"{line.rstrip('.')} theo khoản {k + 1}." for k in range(args.copies) for line in base)
    segments = transcript(base)
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        aligned = align_to_documents(segments, [document])
        times.append(time.perf_counter() - started)
    print(
        f"{len(segments)} segments, document of {len(document)} chars ({len(base) * args.copies} lines): "
        f"median {statistics.median(times):.2f} s; {len(aligned.replaced)} replaced, {len(aligned.suggested)} suggested"
    )


if __name__ == "__main__":
    main()
