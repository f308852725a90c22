"""The measurement lecture of issue 18: half its sentences read from a sample resolution
(bench/data/nghi_quyet_mau.txt), half the lecturer's own words in the same register
(bench/data/bai_giang_ngoai_van_ban.txt, three of them near-paraphrases of the document), spoken by espeak-ng in
three Vietnamese voices at four speeds and three pitches, and the scoring that splits WER/CER between the two.

**How the hypothesis is split by sentence.** Reference and hypothesis are normalised for scoring
(``asr.scoring.normalise_for_scoring``) and aligned word by word over the whole lecture with jiwer
(``process_words``). Each hypothesis word goes to the sentence of the reference word it is aligned with
(equal or substituted); an inserted word goes to the sentence of the reference word before it (the first
sentence for an insertion at the very start). The in-document rates are then those of the in-document
sentences' references against the hypothesis words assigned to them, and likewise for the other sentences.
Segment times are not used: Whisper's segments cross sentence boundaries, a word alignment does not need to.

Synthetic speech is a regression signal only (Whisper base hears espeak-ng far worse than a person).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.speech import VOICES, Utterance, synthesize  # noqa: E402

DATA = Path(__file__).with_name("data")
DOCUMENT = DATA / "nghi_quyet_mau.txt"
OWN_WORDS = DATA / "bai_giang_ngoai_van_ban.txt"
# 20 of the document's 30 sentences are read in the lecture (0-based lines of DOCUMENT).
QUOTED = (0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 13, 16, 18, 19, 20, 21, 23, 25, 27)
SPEEDS = (125, 140, 155, 170)
PITCHES = (35, 50, 65)
PAUSES = (1.2, 2.0, 0.9, 3.0)


def sentence_lines(path: Path) -> list[str]:
    """The sentences of a bench text file: one a line, ``#`` lines skipped, a ``near:`` mark removed."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line.removeprefix("near:").strip() for line in lines if line and not line.startswith("#")]


def document_text() -> str:
    """The sample resolution as a material's text would be: its sentences, one a line."""
    return "\n".join(sentence_lines(DOCUMENT))


@dataclass(frozen=True)
class Sentence:
    """One sentence of the lecture, and whether it is read from the document."""

    text: str
    in_document: bool


@dataclass(frozen=True)
class DocumentLecture:
    """The generated audio, its sentences in order, and its length."""

    audio: Path
    sentences: tuple[Sentence, ...]
    duration: float

    @property
    def reference(self) -> str:
        return " ".join(s.text for s in self.sentences)


def lecture_sentences() -> tuple[Sentence, ...]:
    """The lecturer's sentences and the quoted ones, alternating (the closing remark last)."""
    document, own = sentence_lines(DOCUMENT), sentence_lines(OWN_WORDS)
    assert len(own) == len(QUOTED), "as many own sentences as quoted ones"
    order: list[Sentence] = []
    for mine, quoted in zip(own[:-1], QUOTED[:-1]):
        order += [Sentence(mine, False), Sentence(document[quoted], True)]
    return (*order, Sentence(document[QUOTED[-1]], True), Sentence(own[-1], False))


def build_document_lecture(folder: Path | None = None) -> DocumentLecture:
    """Synthesise the lecture into ``folder`` (a temporary folder by default); voices, speeds, pitches vary."""
    from diemcau.asr.audio import load_audio

    folder = folder or Path(tempfile.mkdtemp(prefix="asr-documents-"))
    folder.mkdir(parents=True, exist_ok=True)
    sentences = lecture_sentences()
    items = [
        Utterance(s.text, VOICES[n % len(VOICES)], SPEEDS[n % len(SPEEDS)], PAUSES[n % len(PAUSES)], PITCHES[n % 3])
        for n, s in enumerate(sentences)
    ]
    audio = synthesize(items, folder / "lecture-documents.wav")
    return DocumentLecture(audio, sentences, load_audio(audio).duration)


def split_by_sentence(references: Sequence[str], hypothesis: str) -> list[str]:
    """The hypothesis cut into one piece per reference sentence (see the module doc), normalised for scoring."""
    import jiwer

    from diemcau.asr.scoring import normalise_for_scoring

    words = [normalise_for_scoring(r).split() for r in references]
    owner = [n for n, sentence in enumerate(words) for _ in sentence]
    hyp = normalise_for_scoring(hypothesis).split()
    pieces: list[list[str]] = [[] for _ in references]
    if not hyp:
        return ["" for _ in references]
    aligned = jiwer.process_words(" ".join(w for s in words for w in s), " ".join(hyp))
    for chunk in aligned.alignments[0]:
        for offset, at in enumerate(range(chunk.hyp_start_idx, chunk.hyp_end_idx)):
            if chunk.type == "insert":
                ref = chunk.ref_start_idx - 1
            else:
                ref = min(chunk.ref_start_idx + offset, chunk.ref_end_idx - 1)
            pieces[owner[max(ref, 0)]].append(hyp[at])
    return [" ".join(piece) for piece in pieces]


def split_rates(sentences: Sequence[Sentence], hypothesis: str) -> dict[str, tuple[float, float]]:
    """(WER, CER) of the whole lecture, of the in-document sentences and of the others."""
    from diemcau.asr.scoring import error_rates

    pieces = split_by_sentence([s.text for s in sentences], hypothesis)
    rates = {}
    for group, keep in (
        ("all", lambda s: True),
        ("document", lambda s: s.in_document),
        ("other", lambda s: not s.in_document),
    ):
        chosen = [n for n, s in enumerate(sentences) if keep(s)]
        result = error_rates(" ".join(sentences[n].text for n in chosen), " ".join(pieces[n] for n in chosen))
        rates[group] = (result.wer, result.cer)
    return rates
