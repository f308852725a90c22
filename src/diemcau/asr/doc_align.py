"""Align a transcript to the lecture's documents (issue 18): where the speaker reads a sentence of an attached
document, put the document's exact words in place of what Whisper heard (pure: no I/O).

**Folding.** Both sides are compared as *folded syllables*: the scoring normalisation (lower case, numbers spelt
out, no punctuation: ``asr.scoring.normalise_for_scoring``), then every syllable without tone marks or
diacritics (``đ`` → ``d``), and with the confusions Whisper makes most on Vietnamese merged: initials *tr/ch*,
*d/gi/r*, *s/x*, *k/q/c*, *ngh/ng*, *gh/g*, and finals *-ng/-nh/-n*, *-c/-ch/-t*, *-y/-i*. "nào bàn chụp tuyến" and
"giao ban trực tuyến" fold to "nao ban chup tuyen" and "dao ban chut tuyen".

**Sentences** end at ``. ! ? ; : …`` and at line breaks, except where a PDF wrapped a line: a line going on in
lower case continues the sentence above.

**Matching.** Each document sentence (8 to 60 syllables; longer ones are cut at commas, then every 60 syllables)
is looked for in the whole folded transcript with rapidfuzz's ``partial_ratio_alignment`` (best window of the
sentence's length, character level), then the window's ends are moved word by word (±4 words) to the span
whose ``fuzz.ratio`` with the sentence is highest (insertions and deletions make the best span longer or shorter
than the sentence). A stretch is replaced only if it has 75–133 % of the sentence's syllables; otherwise it is
at most a suggestion. A match is kept once per place, best score first: stretches never overlap. A sentence may
be found again elsewhere (up to ``MAX_OCCURRENCES`` times; a lecturer repeats a key sentence).

**Thresholds** (``AlignOptions``, 0–100, ``fuzz.ratio`` on folded text). At or above ``replace_at`` the stretch
becomes the document's sentence. From ``unsure_replace_at`` up to it, it does so only where Whisper was unsure of
what it wrote (mean word probability under ``unsure_probability``): a model that heard the words clearly and wrote
something else most likely heard a speaker who said something else. Any other match from ``suggest_at`` up is only
*suggested* (for the trainer). The values come from the sweep in ``bench/asr_quality.py --documents``
(docs/benchmarks.md, issue 18). On a *perfect* transcript of the benchmark lecture, the lecturer's own paraphrase of
a document sentence scores 69.9 against it (64.3 for another): replacing at 70 or below would put the document's
words over what the speaker really said once the model hears well. Replacing at 72 keeps that margin; on Whisper
base's transcript it replaces the 12 in-document sentences that score 72.4–89. Base is unsure of nearly all it
writes on this speech (mean word probability 0.41–0.56 over the quoted sentences), and its seven other quoted
sentences score 67.4–70.8, while its worst false match (an own sentence against a document sentence) scores 58.2:
replacing unsure stretches from 65 takes those seven too. Suggestions start at 60.

**Times.** The segments keep their index, start and end. A stretch covering several segments has the
document's words spread over them in proportion to how many of the stretch's words each segment held (every
covered segment keeps at least one word; a cut moves up to three words to follow a comma or a stop), so
captions stay in step with the speech. A changed segment loses its word timings, as with a trainer's
correction; a segment no stretch touches is returned unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from diemcau.asr.scoring import normalise_for_scoring
from diemcau.core.transcript import Segment

MIN_SYLLABLES = 8  # shorter sentences ("Thứ nhất.", "Đảng đảng viên") match by chance too easily
LENGTH_RATIO = 0.75  # a replaced stretch has 75–133 % of the sentence's syllables (a suggestion may differ more)
MAX_SYLLABLES = 60
MAX_SENTENCES = 5000  # of all documents together, after de-duplication
MAX_OCCURRENCES = 3
MAX_DOCUMENT_CHARS = 1_000_000  # of each document; the rest is not looked at
EDGE_WORDS = 4  # how far the refinement moves each end of a stretch
SNAP_WORDS = 3  # how far a cut between two segments moves to follow a comma or a stop
PAUSES = ",.;:!?…"
_INITIALS = (("ngh", "ng"), ("gh", "g"), ("tr", "ch"), ("gi", "d"), ("r", "d"), ("s", "x"), ("k", "c"), ("q", "c"))
_FINALS = (("ng", "n"), ("nh", "n"), ("ch", "t"), ("c", "t"), ("y", "i"))
_SENTENCE_END = re.compile(r"(?<=[.!?;:…])\s+|\n+")
_LINE_BREAK = re.compile(r"[ \t]*\n[ \t]*(?=\w)")
_MASK = "\x00"


@dataclass(frozen=True)
class AlignOptions:
    """The similarity (``fuzz.ratio`` of folded text, 0–100) to replace at, and to suggest at."""

    replace_at: float = 72.0
    suggest_at: float = 60.0
    unsure_replace_at: float = 65.0  # ... and this, where Whisper was unsure of what it wrote
    unsure_probability: float = 0.6  # the stretch's mean word probability below which Whisper "was unsure"


@dataclass(frozen=True)
class DocumentMatch:
    """A stretch of the transcript that matches a document sentence: ``replaced`` or only suggested. ``texts``
    holds each covered segment's index and its whole text with the document's words in place of the stretch
    (what accepting a suggestion writes, one correction per segment)."""

    sentence: str
    heard: str
    score: float
    first_segment: int
    last_segment: int
    start: float
    end: float
    replaced: bool
    texts: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Alignment:
    """The segments with every replacement made, and the matches (replaced first, then suggestions)."""

    segments: tuple[Segment, ...]
    matches: tuple[DocumentMatch, ...]

    @property
    def replaced(self) -> tuple[DocumentMatch, ...]:
        return tuple(m for m in self.matches if m.replaced)

    @property
    def suggested(self) -> tuple[DocumentMatch, ...]:
        return tuple(m for m in self.matches if not m.replaced)


def fold_syllable(syllable: str) -> str:
    """One syllable without marks, lower case, Whisper's usual confusions merged (see the module doc)."""
    bare = "".join(c for c in unicodedata.normalize("NFD", syllable.lower()) if unicodedata.category(c) != "Mn")
    bare = bare.replace("đ", "d")
    for written, folded in _INITIALS:
        if bare.startswith(written) and len(bare) > len(written):
            bare = folded + bare[len(written) :]
            break
    for written, folded in _FINALS:
        if bare.endswith(written) and len(bare) > len(written):
            bare = bare[: -len(written)] + folded
            break
    return bare


def fold(text: str) -> tuple[str, ...]:
    """The folded syllables of ``text``."""
    return tuple(fold_syllable(s) for s in normalise_for_scoring(text).split())


@dataclass(frozen=True)
class _Sentence:
    text: str
    folded: str


def _pieces(words: Sequence[str], folded: Sequence[tuple[str, ...]]) -> list[_Sentence]:
    """A sentence, or for one over ``MAX_SYLLABLES`` its comma-separated parts, each cut again when too long."""
    if sum(len(f) for f in folded) <= MAX_SYLLABLES:
        return [_Sentence(" ".join(words), " ".join(s for f in folded for s in f))]
    pieces: list[_Sentence] = []
    texts: list[str] = []
    syllables: list[str] = []
    for word, its in zip(words, folded):
        its = its[:MAX_SYLLABLES]
        if syllables and len(syllables) + len(its) > MAX_SYLLABLES:
            pieces.append(_Sentence(" ".join(texts).rstrip(","), " ".join(syllables)))
            texts, syllables = [], []
        texts.append(word)
        syllables += its
        if word.endswith(","):
            pieces.append(_Sentence(" ".join(texts).rstrip(","), " ".join(syllables)))
            texts, syllables = [], []
    if texts:
        pieces.append(_Sentence(" ".join(texts), " ".join(syllables)))
    return pieces


class _Folder:
    """``fold`` one word at a time, remembering the words already seen (documents and transcripts repeat them)."""

    def __init__(self) -> None:
        self.known: dict[str, tuple[str, ...]] = {}

    def __call__(self, word: str) -> tuple[str, ...]:
        if word not in self.known:
            self.known[word] = fold(word)
        return self.known[word]


def _unwrapped(text: str) -> str:
    """``text`` with the line breaks of wrapped lines (a PDF's layout) made spaces: a line that goes on in lower
    case continues the sentence above; any other line break (a heading, a list item) still ends one."""
    return _LINE_BREAK.sub(lambda m: " " if text[m.end()].islower() else m.group(0), text)


def document_sentences(documents: Sequence[str]) -> tuple[_Sentence, ...]:
    """The documents' sentences worth looking for: long enough, de-duplicated, at most ``MAX_SENTENCES``."""
    seen: set[str] = set()  # folded pieces
    read: set[str] = set()  # sentences as written
    kept: list[_Sentence] = []
    folder = _Folder()
    for document in documents:
        for raw in _SENTENCE_END.split(_unwrapped(unicodedata.normalize("NFC", document[:MAX_DOCUMENT_CHARS]))):
            words = raw.split()
            if " ".join(words) in read:
                continue
            read.add(" ".join(words))
            for piece in _pieces(words, [folder(w) for w in words]):
                if len(piece.folded.split()) < MIN_SYLLABLES or piece.folded in seen:
                    continue
                seen.add(piece.folded)
                kept.append(piece)
                if len(kept) >= MAX_SENTENCES:
                    return tuple(kept)
    return tuple(kept)


@dataclass(frozen=True)
class _Word:
    segment: int  # position in the segment list
    text: str
    folded: str


@dataclass(frozen=True)
class _Span:
    sentence: _Sentence
    first: int  # word positions, end exclusive
    end: int
    score: float


def _words(segments: Sequence[Segment]) -> list[_Word]:
    folder = _Folder()
    return [
        _Word(at, word, " ".join(folder(word))) for at, segment in enumerate(segments) for word in segment.text.split()
    ]


def _folded_text(words: Sequence[_Word]) -> tuple[str, list[int]]:
    """The words' folded text, and for each character the word it belongs to (spaces: the word before)."""
    text: list[str] = []
    owner: list[int] = []
    for at, word in enumerate(words):
        if not word.folded:
            continue
        if text:
            text.append(" ")
            owner.append(owner[-1])
        text.append(word.folded)
        owner += [at] * len(word.folded)
    return "".join(text), owner


def _span_text(words: Sequence[_Word], first: int, end: int) -> str:
    return " ".join(w.folded for w in words[first:end] if w.folded)


def _refine(words: Sequence[_Word], sentence: _Sentence, first: int, end: int) -> _Span:
    """The best-scoring span with ends within ``EDGE_WORDS`` of ``first``/``end``."""
    from rapidfuzz import fuzz

    best = _Span(sentence, first, end, -1.0)
    for a in range(max(0, first - EDGE_WORDS), min(len(words), first + EDGE_WORDS + 1)):
        for b in range(max(a + 1, end - EDGE_WORDS), min(len(words), end + EDGE_WORDS) + 1):
            score = fuzz.ratio(sentence.folded, _span_text(words, a, b))
            if score > best.score:
                best = _Span(sentence, a, b, score)
    return best


def _candidates(words: Sequence[_Word], sentences: Sequence[_Sentence], floor: float) -> list[_Span]:
    from rapidfuzz import fuzz

    text, owner = _folded_text(words)
    found: list[_Span] = []
    if not text:
        return found
    for sentence in sentences:
        masked = text
        for _ in range(MAX_OCCURRENCES):
            hit = fuzz.partial_ratio_alignment(sentence.folded, masked, score_cutoff=floor)
            if hit is None or hit.dest_end <= hit.dest_start:
                break
            first, end = owner[hit.dest_start], owner[hit.dest_end - 1] + 1
            span = _refine(words, sentence, first, end)
            if span.score >= floor:
                found.append(span)
            lo, hi = bisect_left(owner, first), bisect_left(owner, end)  # ``owner`` never decreases
            masked = masked[:lo] + _MASK * (hi - lo) + masked[hi:]
    return found


def _confidence(segments: Sequence[Segment], words: Sequence[_Word], span: _Span) -> float:
    """Whisper's mean word probability over the stretch: each covered segment's mean, weighted by how many of the
    stretch's words it holds; a segment without word probabilities (a trainer's text) counts as sure (1.0)."""
    total = 0.0
    for at in range(span.first, span.end):
        held = segments[words[at].segment].words
        total += sum(w.probability for w in held) / len(held) if held else 1.0
    return total / (span.end - span.first)


def _replaces(segments: Sequence[Segment], words: Sequence[_Word], span: _Span, options: AlignOptions) -> bool:
    if not _similar_length(words, span):
        return False
    if span.score >= options.replace_at:
        return True
    unsure = _confidence(segments, words, span) < options.unsure_probability
    return unsure and span.score >= options.unsure_replace_at


def _similar_length(words: Sequence[_Word], span: _Span) -> bool:
    heard = len(_span_text(words, span.first, span.end).split())
    wanted = len(span.sentence.folded.split())
    return LENGTH_RATIO <= heard / wanted <= 1 / LENGTH_RATIO


def _spread(sentence: str, counts: Sequence[int]) -> list[list[str]]:
    """The sentence's words shared out over segments holding ``counts`` words of the stretch (each ≥ 1): in
    proportion, each cut then moved up to ``SNAP_WORDS`` words to follow a comma or a stop where there is one
    (Whisper ends its segments at pauses, and a speaker pauses there: "khoa học," stays in one caption)."""
    words = sentence.split()
    total, cuts, seen = sum(counts), [], 0
    for k, count in enumerate(counts):
        seen += count
        last = k == len(counts) - 1
        cut = round(len(words) * seen / total) if not last else len(words)
        low = (cuts[-1] + 1) if cuts else 1
        high = len(words) - (len(counts) - 1 - k)
        if low > high:
            cuts.append(min(cut, len(words)))
            continue
        cut = max(low, min(cut, high))
        cuts.append(cut if last else _after_a_pause(words, cut, low, high))
    return [words[a:b] for a, b in zip([0, *cuts[:-1]], cuts)]


def _after_a_pause(words: Sequence[str], cut: int, low: int, high: int) -> int:
    """The cut within ``SNAP_WORDS`` of ``cut`` (and within ``low``–``high``) nearest to it that follows a word
    ending in punctuation; ``cut`` itself when there is none."""
    for distance in range(SNAP_WORDS + 1):
        for candidate in sorted({cut - distance, cut + distance}):
            if low <= candidate <= high and words[candidate - 1][-1] in PAUSES:
                return candidate
    return cut


def _proposal(segments: Sequence[Segment], words: Sequence[_Word], span: _Span) -> tuple[tuple[int, str], ...]:
    """Each segment the span covers, by ``index``, with the document's words in place of the span's (as ``_apply``
    writes them): the words of its first segment before the span and of its last segment after it are kept."""
    owners = [words[at].segment for at in range(span.first, span.end)]
    order = sorted(set(owners))
    parts: dict[int, list[str]] = {position: [] for position in order}
    lo, hi = span.first, span.end
    while lo > 0 and words[lo - 1].segment == order[0]:
        lo -= 1
    while hi < len(words) and words[hi].segment == order[-1]:
        hi += 1
    parts[order[0]] += [w.text for w in words[lo : span.first]]
    for position, share in zip(order, _spread(span.sentence.text, [owners.count(s) for s in order])):
        parts[position] += share
    parts[order[-1]] += [w.text for w in words[span.end : hi]]
    return tuple((segments[position].index, " ".join(parts[position])) for position in order)


def _apply(segments: Sequence[Segment], words: Sequence[_Word], spans: Sequence[_Span]) -> tuple[Segment, ...]:
    plan: dict[int, tuple[int, list[str]]] = {}  # first word of a piece → (its end, the document's words)
    for span in spans:
        owners = [words[at].segment for at in range(span.first, span.end)]
        order = sorted(set(owners))
        shares = _spread(span.sentence.text, [owners.count(s) for s in order])
        for segment, share in zip(order, shares):
            mine = [at for at in range(span.first, span.end) if words[at].segment == segment]
            plan[mine[0]] = (mine[-1] + 1, share)
    rebuilt: dict[int, list[str]] = {}
    at = 0
    while at < len(words):
        end, share = plan.get(at, (at + 1, [words[at].text]))
        rebuilt.setdefault(words[at].segment, []).extend(share)
        at = end
    result = []
    for position, segment in enumerate(segments):
        text = " ".join(rebuilt.get(position, []))
        changed = text != " ".join(segment.text.split()) and text
        result.append(replace(segment, text=text, words=()) if changed else segment)
    return tuple(result)


def align_to_documents(
    segments: Sequence[Segment],
    documents: Sequence[str],
    options: AlignOptions = AlignOptions(),
    frozen: Collection[int] = (),
) -> Alignment:
    """Replace the stretches of ``segments`` that match a sentence of ``documents`` at or above
    ``options.replace_at`` with the document's words; report those from ``options.suggest_at`` as suggestions.
    A stretch that touches a segment whose ``index`` is in ``frozen`` (a trainer's correction) is at most a
    suggestion."""
    words = _words(segments)
    sentences = document_sentences(documents)
    floor = min(options.suggest_at, options.replace_at, options.unsure_replace_at)
    taken: set[int] = set()
    chosen: list[_Span] = []
    for span in sorted(_candidates(words, sentences, floor), key=lambda s: (-s.score, s.first)):
        if any(at in taken for at in range(span.first, span.end)):
            continue
        taken.update(range(span.first, span.end))
        chosen.append(span)
    kept_as_is = set(frozen)
    held = {at for at, segment in enumerate(segments) if segment.index in kept_as_is}
    replacing = [
        s
        for s in chosen
        if _replaces(segments, words, s, options) and not any(words[w].segment in held for w in range(s.first, s.end))
    ]
    replaced = {id(s) for s in replacing}
    matches = [
        DocumentMatch(
            sentence=s.sentence.text,
            heard=" ".join(w.text for w in words[s.first : s.end]),
            score=round(s.score, 1),
            first_segment=segments[words[s.first].segment].index,
            last_segment=segments[words[s.end - 1].segment].index,
            start=segments[words[s.first].segment].start,
            end=segments[words[s.end - 1].segment].end,
            replaced=id(s) in replaced,
            texts=_proposal(segments, words, s),
        )
        for s in sorted(chosen, key=lambda s: (id(s) not in replaced, s.first))
    ]
    return Alignment(_apply(segments, words, replacing), tuple(matches))
