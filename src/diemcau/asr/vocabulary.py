"""A per-lecture vocabulary for biasing Whisper (issue 18): the glossary's terms and the terms, names and
numbered resolutions of the lecture's documents, most telling first (pure: no I/O).

What is taken from the documents' text, in this order:

1. **Numbered documents**: *Nghị quyết số 57-NQ/TW*, *Chỉ thị 05-CT/TW*, *Kết luận 21-KL/TW*, *Quy định
   số 144-QĐ/TW* … (a kind word, optionally *số*, a number and a code with a slash), and bare codes such as
   *57-NQ/TW*.
2. **Names**: runs of two or more capitalised syllables (within a phrase: commas cut) that do not open a sentence (*Bộ Chính*, *Trung ương*,
   *Mặt trận Tổ quốc* gives *Tổ quốc* …) extended by the lower-case syllables that the glossary has after them
   (*Bộ Chính trị*); a run that opens a sentence counts only when it appears elsewhere too.
3. **Repeated terms**: runs of 2–4 syllables that occur at least ``MIN_REPEATS`` times, neither starting nor
   ending with a function word (*và*, *của*, *các* …), the longest first; a shorter run inside a kept one is
   dropped unless it also occurs on its own.
4. The **glossary** terms that the documents use, then the rest of the glossary.

Duplicates (case-insensitively) keep their first place. ``asr.prompt.glossary_prompt`` joins the result and
cuts it to what Whisper keeps of a prompt.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

MIN_REPEATS = 3
MAX_DOCUMENT_CHARS = 1_000_000  # of each document; the rest is not looked at
_KINDS = r"(?:Nghị quyết|Chỉ thị|Kết luận|Quyết định|Quy định|Thông báo|Hướng dẫn|Kế hoạch)"
_CODE = r"\d{1,4}\s*-\s*[A-ZĐ]{1,5}(?:\s*/\s*[A-ZĐ]{1,5}){1,2}"
_NUMBERED = re.compile(rf"\b{_KINDS}\s+(?:số\s+)?{_CODE}", re.IGNORECASE)
_BARE_CODE = re.compile(rf"\b{_CODE}")
_SENTENCE = re.compile(r"(?<=[.!?;:…])\s+|\n+")
_PHRASE = re.compile(r"[,()\[\]“”\"]")
_FUNCTION_WORDS = frozenset(
    "và của các là được trong với để có những cho đến ở từ này theo về một đã sẽ thì mà như khi phải "
    "không cũng rằng trên dưới tại do bởi nên hay hoặc".split()
)


def _syllables(sentence: str) -> list[str]:
    """The sentence's words with the punctuation around them stripped (codes like 57-NQ/TW kept whole)."""
    return [w.strip(".,;:!?…\"'()[]“”‘’«»") for w in sentence.split() if w.strip(".,;:!?…\"'()[]“”‘’«»")]


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() and word[:1].isalpha()


def _sentences(documents: Iterable[str]) -> list[tuple[list[str], bool]]:
    """The documents' phrases (sentences cut at commas and brackets), each with whether it opens a sentence."""
    phrases = []
    for document in documents:
        for raw in _SENTENCE.split(unicodedata.normalize("NFC", document[:MAX_DOCUMENT_CHARS])):
            for at, phrase in enumerate(_PHRASE.split(raw)):
                if words := _syllables(phrase):
                    phrases.append((words, at == 0))
    return phrases


def numbered_documents(documents: Sequence[str]) -> list[str]:
    """The numbered resolutions, directives … the documents cite, as written (whitespace collapsed)."""
    found: list[str] = []
    for document in documents:
        text = unicodedata.normalize("NFC", document[:MAX_DOCUMENT_CHARS])
        cited = [" ".join(m.group().split()) for m in _NUMBERED.finditer(text)]
        found += cited + [m.group() for m in _BARE_CODE.finditer(text) if not any(m.group() in c for c in cited)]
    return found


def _names(sentences: Sequence[tuple[list[str], bool]], glossary: Sequence[str]) -> list[str]:
    runs: Counter[str] = Counter()
    openers: Counter[str] = Counter()
    for words, opens in sentences:
        at = 0
        while at < len(words):
            end = at
            while end < len(words) and _is_capitalised(words[end]) and not any(c.isdigit() for c in words[end]):
                end += 1
            if end - at >= 2:
                (openers if at == 0 and opens else runs)[" ".join(words[at:end])] += 1
            at = max(end, at + 1)
    names = [run for run in runs] + [run for run in openers if run in runs or openers[run] >= 2]
    lowered = [g.lower() for g in glossary]
    longer = []
    for name in dict.fromkeys(names):
        extended = next((g for g, low in zip(glossary, lowered) if low.startswith(name.lower() + " ")), name)
        longer.append(extended)
    return longer


def _repeated_terms(sentences: Sequence[tuple[list[str], bool]]) -> list[str]:
    counts: Counter[tuple[str, ...]] = Counter()
    written: dict[tuple[str, ...], Counter[str]] = {}
    for words, opens in sentences:
        lowered = tuple(w.lower() for w in words)
        for size in (4, 3, 2):
            for at in range(len(lowered) - size + 1):
                gram = lowered[at : at + size]
                if gram[0] in _FUNCTION_WORDS or gram[-1] in _FUNCTION_WORDS or any(not w.isalpha() for w in gram):
                    continue
                counts[gram] += 1
                if not (at == 0 and opens):  # a sentence's capital says nothing about the term
                    written.setdefault(gram, Counter())[" ".join(words[at : at + size])] += 1
    kept: list[tuple[str, ...]] = []
    for gram, count in sorted(counts.items(), key=lambda item: (-len(item[0]), -item[1])):
        if count < MIN_REPEATS:
            continue
        inside = sum(counts[k] for k in kept if _contains(k, gram))
        if count > inside:
            kept.append(gram)
    ranked = sorted(kept, key=lambda g: -counts[g] * len(g))
    return [written[g].most_common(1)[0][0] if g in written else " ".join(g) for g in ranked]


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    return any(longer[at : at + len(shorter)] == shorter for at in range(len(longer) - len(shorter) + 1))


def lecture_vocabulary(glossary: Sequence[str], documents: Sequence[str]) -> tuple[str, ...]:
    """The lecture's terms, most telling first (see the module doc); no documents → the glossary as it is."""
    sentences = _sentences(documents)
    text = " ".join(" ".join(words) for words, _ in sentences).lower()
    used = [term for term in glossary if term.lower() in text]
    ordered = [
        *numbered_documents(documents),
        *_names(sentences, glossary),
        *_repeated_terms(sentences),
        *used,
        *glossary,
    ]
    seen: set[str] = set()
    terms = []
    for term in ordered:
        key = term.lower()
        if key not in seen:
            seen.add(key)
            terms.append(term)
    return tuple(terms)
