"""A generator of Vietnamese-like lecture transcripts, for the search benchmark (``bench/search_speed.py``).

Real syllables with realistic frequencies: the head of the vocabulary comes from ``search_seed_vi.txt``, a
lecture on a resolution written for this purpose (~3,500 words, ~780 distinct syllables, with tones). Text is
produced by copying runs of 2–8 consecutive words from it, so its collocations ("đảng viên", "nghị quyết",
"chuyển đổi số") and word frequencies carry over. About 3 % of words come from a long tail of ~6,000 further
syllables built by Vietnamese phonotactics (onset + rhyme + tone, stop-final rhymes only with sắc/nặng),
weighted by Zipf's law, so rare terms exist as they do in real speech. Speech runs at ~9,000 words per hour
(2.5 words/s) in segments of 5–15 s. Everything is seeded: the same arguments give the same corpus.

    .venv/bin/python bench/search_corpus.py 2 > sample.txt   # two lecture-hours as text
"""

from __future__ import annotations

import random
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from diemcau.core.search_text import tokenise
from diemcau.core.transcript import Segment
from diemcau.search.index import LectureMeta

SEED_TEXT = Path(__file__).with_name("search_seed_vi.txt")
WORDS_PER_SECOND = 9000 / 3600
TAIL_SHARE = 0.03
TAIL_SIZE = 6000

ONSETS = [
    "",
    "b",
    "c",
    "ch",
    "d",
    "đ",
    "g",
    "gh",
    "gi",
    "h",
    "k",
    "kh",
    "l",
    "m",
    "n",
    "ng",
    "ngh",
    "nh",
    "p",
    "ph",
    "qu",
    "r",
    "s",
    "t",
    "th",
    "tr",
    "v",
    "x",
]
# Rhymes; ":n" names the letter that carries the tone when it is not the first.
RHYMES = """a ai ao au ay am an ang anh ac ach ap at ăm ăn ăng ăc ăp ăt âm ân âng âu ây âc âp ât e em en eng eo ec ep
et ê êm ên ênh êu êch êp êt i ia im in inh iu ich ip it iêm:1 iên:1 iêng:1 iêu:1 iêc:1 iêp:1 iêt:1 o oa:1 oai:1 oan:1
oang:1 oanh:1 oat:1 oac:1 oe:1 oi om on ong oc op ot ô ôi ôm ôn ông ôc ôp ôt ơ ơi ơm ơn ơp ơt u ua uân:1 uât:1 uê:1
uy:1 uyên:2 uyêt:2 ui um un ung uc up ut uôi:1 uôm:1 uôn:1 uông:1 uôc:1 uôt:1 ư ưa ưi ưng ưc ưt ươi:1 ươm:1 ươn:1
ương:1 ươc:1 ươp:1 ươt:1 ươu:1 y""".split()
TONES = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]  # ngang, huyền, sắc, ngã, hỏi, nặng
STOP_TONES = ["\u0301", "\u0323"]
FRONT = ("i", "e", "ê", "y")


def _allowed(onset: str, rhyme: str) -> bool:
    front = rhyme.startswith(FRONT)
    if onset in ("k", "gh", "ngh"):
        return front
    if onset in ("c", "g", "ng"):
        return not front
    if onset == "qu":
        return not rhyme.startswith(("u", "o"))
    return not (onset == "gi" and rhyme.startswith("i"))


def phonotactic_syllables() -> list[str]:
    """Every onset + rhyme + tone that Vietnamese spelling allows (many are real words, some are not)."""
    out = []
    for spec in RHYMES:
        rhyme, _, at = spec.partition(":")
        position = int(at or 0)
        stop = rhyme.endswith(("c", "ch", "p", "t"))
        for onset in ONSETS:
            if _allowed(onset, rhyme):
                for tone in STOP_TONES if stop else TONES:
                    toned = rhyme[: position + 1] + tone + rhyme[position + 1 :]
                    out.append(unicodedata.normalize("NFC", onset + toned))
    return out


class CorpusGenerator:
    """Seeded lecture-hours of Vietnamese-like transcript."""

    def __init__(self, seed: int = 57) -> None:
        self.rng = random.Random(seed)
        self.words = tokenise(SEED_TEXT.read_text(encoding="utf-8"))
        known = set(self.words)
        tail = [s for s in phonotactic_syllables() if s not in known]
        random.Random(seed + 1).shuffle(tail)
        self.tail = tail[:TAIL_SIZE]
        self.tail_weights = [1.0 / (rank + 10) for rank in range(len(self.tail))]  # Zipf's law

    def rare_words(self, ranks: tuple[int, ...] = (50, 500, 2000, 5000)) -> list[str]:
        """Tail syllables at these frequency ranks (for rare-term queries)."""
        return [self.tail[rank] for rank in ranks]

    def _text(self, count: int) -> str:
        rng, words, out = self.rng, self.words, []
        while len(out) < count:
            if rng.random() < TAIL_SHARE:
                out.extend(rng.choices(self.tail, cum_weights=None, weights=self.tail_weights, k=1))
            else:
                start = rng.randrange(len(words) - 8)
                out.extend(words[start : start + rng.randint(2, 8)])
        text = " ".join(out[:count])
        return text[:1].upper() + text[1:] + "."

    def lecture(self, number: int, hours: float = 1.0) -> tuple[LectureMeta, list[Segment]]:
        """One lecture of ``hours`` with segments of 5–15 s at ~2.5 words/s."""
        segments, clock = [], 0.0
        while clock < hours * 3600:
            length = self.rng.uniform(5.0, 15.0)
            text = self._text(max(1, round(length * WORDS_PER_SECOND)))
            segments.append(Segment(len(segments), round(clock, 2), round(clock + length, 2), text))
            clock += length
        course = f"nq-{number % 40:02d}"
        meta = LectureMeta(f"bench{number:06d}", f"Bài giảng số {number}", course, f"Báo cáo viên {number % 97}")
        return meta, segments

    def lectures(self, hours: int) -> Iterator[tuple[LectureMeta, list[Segment]]]:
        """``hours`` lectures of one hour each."""
        for number in range(hours):
            yield self.lecture(number)


if __name__ == "__main__":
    generator = CorpusGenerator()
    for meta, segments in generator.lectures(int(sys.argv[1]) if len(sys.argv) > 1 else 1):
        for segment in segments:
            print(f"{meta.lecture_id}\t{segment.start:.1f}\t{segment.end:.1f}\t{segment.text}")
