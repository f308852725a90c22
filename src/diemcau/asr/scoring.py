"""Scoring a transcript against a reference text: Vietnamese normalisation, then WER/CER (jiwer).

Whisper writes numbers as digits ("13" for "mười ba") and punctuates freely; a reference read aloud has
neither, so both sides are lower-cased, stripped of punctuation and have their numbers spelt out before
they are compared. jiwer is a test/benchmark dependency, imported only when rates are computed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_SCALES = ((1_000_000_000, "tỷ"), (1_000_000, "triệu"), (1_000, "nghìn"))
_NUMBER = re.compile(r"\d{1,3}(?:\.\d{3})+(?!\d)|\d+")


def _below_hundred(n: int) -> str:
    if n < 10:
        return _DIGITS[n]
    tens, unit = divmod(n, 10)
    head = "mười" if tens == 1 else f"{_DIGITS[tens]} mươi"
    if unit == 0:
        return head
    if unit == 5:
        return f"{head} lăm"
    if unit == 1 and tens > 1:
        return f"{head} mốt"
    return f"{head} {_DIGITS[unit]}"


def _below_thousand(n: int, inner: bool) -> str:
    hundreds, rest = divmod(n, 100)
    if hundreds == 0 and not inner:
        return _below_hundred(rest)
    head = f"{_DIGITS[hundreds]} trăm"
    if rest == 0:
        return head
    if rest < 10:
        return f"{head} lẻ {_DIGITS[rest]}"
    return f"{head} {_below_hundred(rest)}"


def number_words(n: int) -> str:
    """Spell a non-negative integer in Vietnamese words: 14 → "mười bốn", 2025 → "hai nghìn không trăm hai mươi lăm"."""
    if n < 1000:
        return _below_thousand(n, inner=False)
    words: list[str] = []
    for scale, name in _SCALES:
        if n >= scale:
            head, n = divmod(n, scale)
            words.append(f"{number_words(head)} {name}")
            if n == 0:
                return " ".join(words)
    words.append(_below_thousand(n, inner=True))
    return " ".join(words)


def normalise_for_scoring(text: str) -> str:
    """Lower-case, NFC, numbers spelt out, punctuation removed, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text).lower()
    text = _NUMBER.sub(lambda m: f" {number_words(int(m.group().replace('.', '')))} ", text)
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    return " ".join(text.split())


@dataclass(frozen=True)
class ErrorRates:
    """Word and character error rates of a hypothesis against a reference (both normalised first)."""

    wer: float
    cer: float


def error_rates(reference: str, hypothesis: str) -> ErrorRates:
    """WER and CER of ``hypothesis`` against ``reference`` after ``normalise_for_scoring`` on both."""
    import jiwer

    ref, hyp = normalise_for_scoring(reference), normalise_for_scoring(hypothesis)
    if not ref:
        raise ValueError("The reference text is empty; nothing to score against.")
    return ErrorRates(wer=jiwer.wer(ref, hyp or "∅"), cer=jiwer.cer(ref, hyp or "∅"))
