"""Search normalisation for Vietnamese: NFC, lowercase, tone and diacritic folding with đ→d, tokens.

Two forms of every word are indexed side by side, position for position:

* the *exact* form — NFC and lowercase, diacritics kept ("đảng"), so a query typed with diacritics can rank
  exact matches first (ban/bàn/bán/bạn/bản/bận all fold to "ban");
* the *folded* form — tone marks and other diacritics removed, and đ→d ("dang"), so "dang vien" typed on a
  phone without a Vietnamese keyboard finds "đảng viên". Unicode decomposition leaves đ alone (it is a
  letter of its own, not d plus a mark), which is why SQLite's ``remove_diacritics 2`` misses it; we fold it
  here, explicitly.

A token is a maximal run of letters and digits (``str.isalnum``); everything else separates tokens, so
punctuation, emoji, operators and control characters never reach a search engine's query syntax. Every
search backend indexes our tokens joined by single spaces, so its own tokenizer sees exactly these words.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_TOKEN_CHARS = 64  # a longer run is cut into several tokens, so one pasted blob cannot bloat an entry
TOKEN_PATTERN = _TOKEN = re.compile(r"[^\W_]{1,64}")  # a word: letters and digits
_WORD = re.compile(r"\S+")
_LETTER_FOLDS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})


def normalise(text: str) -> str:
    """NFC and lowercase: the *exact* form of a text (diacritics kept)."""
    return unicodedata.normalize("NFC", text).lower()


@lru_cache(maxsize=65536)
def fold_token(token: str) -> str:
    """The folded form of one word: lowercase, tone marks and diacritics removed, đ→d (cached per word)."""
    decomposed = unicodedata.normalize("NFD", token.lower().translate(_LETTER_FOLDS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def fold(text: str) -> str:
    """The folded form of any text: NFC, lowercase, tone marks and diacritics removed, đ→d."""
    return _WORD.sub(lambda m: fold_token(m.group(0)), normalise(text))


@lru_cache(maxsize=65536)
def _clean(raw: str) -> str:
    # Lowercasing may add a combining mark (İ → i̇); keep tokens to letters and digits only.
    token = raw.lower()
    return token if token.isalnum() else "".join(ch for ch in token if ch.isalnum())


def token_spans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, exact token)`` for each token, offsets into the NFC form of ``text``."""
    nfc = unicodedata.normalize("NFC", text)
    spans = ((m.start(), m.end(), _clean(m.group(0))) for m in _TOKEN.finditer(nfc))
    return [span for span in spans if span[2]]


def tokenise(text: str) -> list[str]:
    """The exact-form tokens of ``text``: NFC, lowercase, runs of letters and digits (cut every 64 chars)."""
    nfc = unicodedata.normalize("NFC", text)
    lowered = nfc.lower()
    if len(lowered) == len(nfc):  # the common case: lowercasing kept every character a character
        return _TOKEN.findall(lowered)
    return [token for token in map(_clean, _TOKEN.findall(nfc)) if token]


def fold_tokens(tokens: list[str] | tuple[str, ...]) -> list[str]:
    """The folded form of each exact token, position for position."""
    return [fold_token(token) for token in tokens]


def has_diacritics(query: str) -> bool:
    """Does ``query`` carry any Vietnamese diacritic or đ (so exact-diacritic matches should rank first)?"""
    normal = normalise(query)
    return fold(normal) != normal


def _fold_table() -> dict[int, str]:
    # Latin letters with diacritics (Vietnamese included) → their folded ASCII letter, for str.translate.
    table = {}
    for code in [*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)]:
        folded = fold_token(chr(code))
        if len(folded) == 1 and folded.isascii() and folded.isalnum():
            table[code] = folded
    return table


_FOLD_TABLE = _fold_table()


def fold_joined(exact: str) -> str:
    """The folded form of space-joined exact tokens: one ``str.translate`` for Latin text, else word by word."""
    if exact.isascii():
        return exact
    folded = exact.translate(_FOLD_TABLE)
    return folded if folded.isascii() else " ".join(fold_tokens(exact.split(" ")))


def exact_form(text: str) -> str:
    """The exact form of ``text``: its tokens joined by spaces (PostgreSQL folds this on the server)."""
    return " ".join(tokenise(text))


def index_forms(text: str) -> tuple[str, str]:
    """The exact and folded forms of ``text`` as space-joined tokens, ready for a full-text index."""
    exact = exact_form(text)
    return exact, fold_joined(exact)
