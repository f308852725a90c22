"""The search query language, parsed into a frozen ``SearchQuery``; any string is accepted, none raises.

    đảng viên "nghị quyết 57" course:nq57 speaker:"Nguyễn Văn A" resolution:"NQ 57" after:2026-01-01

* plain words: every one must match (in any order, anywhere in a segment);
* "quoted phrases": the words in this order, side by side; an unclosed quote runs to the end;
* a word that punctuation splits ("57-NQ/TW") is matched as the phrase of its parts;
* filters ``course:`` ``speaker:`` ``resolution:`` ``after:`` ``before:`` (dates ``YYYY-MM-DD``, inclusive);
  an unknown ``key:value`` is searched as words; a filter whose value cannot be read is dropped and named in
  ``SearchQuery.ignored``.

Hostile input is disarmed by construction: only letter/digit tokens survive (``core.search_text``), so FTS
operators, ``*``, ``-``, ``^``, parentheses and quotes never reach a search engine's syntax. Bare upper-case
``AND`` ``OR`` ``NOT`` ``NEAR`` are read as attempted operators and dropped (all words must match anyway).
Control characters and NULs become spaces, the text is cut to ``MAX_QUERY_CHARS`` at a word boundary, and
at most ``MAX_QUERY_TOKENS`` words are kept.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from diemcau.core.search_text import fold, fold_token, tokenise

MAX_QUERY_CHARS = 500
MAX_QUERY_TOKENS = 16
FILTER_KEYS = ("course", "speaker", "resolution", "after", "before")
OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})

_CHUNK = re.compile(
    r'(?P<key>[^\W_]+):(?:"(?P<quoted>[^"]*)"?|(?P<value>[^\s"]*))'  # key:value or key:"quoted value"
    r'|"(?P<phrase>[^"]*)"?'  # "a phrase" (an unclosed quote runs to the end)
    r'|(?P<word>[^\s"]+)'
)
_RAW_TOKEN = re.compile(r"[^\W_]+")
_CONTROL = frozenset({"Cc", "Cs", "Zl", "Zp"})  # controls (NUL included), lone surrogates, line breaks


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query: words and phrases as exact-form tokens (NFC, lowercase), plus filters."""

    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    course: str | None = None
    speaker: str | None = None  # folded; matches lectures whose folded speaker contains it
    resolution: str | None = None  # folded, likewise
    after: dt.date | None = None
    before: dt.date | None = None
    ignored: tuple[str, ...] = ()  # parts of the input that were dropped, to tell the user

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every word of the query, terms first."""
        return self.terms + tuple(token for phrase in self.phrases for token in phrase)

    @property
    def is_empty(self) -> bool:
        """Is there nothing to search for (filters alone do not make a search)?"""
        return not self.terms and not self.phrases

    @property
    def has_diacritics(self) -> bool:
        """Was any word typed with diacritics (so exact-diacritic matches should rank first)?"""
        return any(fold_token(token) != token for token in self.tokens)

    @property
    def folded_terms(self) -> frozenset[str]:
        """The folded form of every word, for highlighting."""
        return frozenset(fold_token(token) for token in self.tokens)


def clean_query_text(raw: object) -> str:
    """Control characters (NUL included) become spaces; the text is cut to ``MAX_QUERY_CHARS`` sensibly."""
    text = raw if isinstance(raw, str) else ""
    text = "".join(" " if unicodedata.category(ch) in _CONTROL else ch for ch in text[: MAX_QUERY_CHARS * 4])
    text = unicodedata.normalize("NFC", text)
    if len(text) <= MAX_QUERY_CHARS:
        return text.strip()
    cut = text[:MAX_QUERY_CHARS]
    space = cut.rfind(" ")
    return (cut[:space] if space > MAX_QUERY_CHARS // 2 else cut).strip()


def _date(value: str) -> dt.date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


class _Builder:
    """Collects the parts of a query while the text is scanned (local to ``parse_query``)."""

    def __init__(self) -> None:
        self.terms: list[str] = []
        self.phrases: list[tuple[str, ...]] = []
        self.filters: dict[str, object] = {}
        self.ignored: list[str] = []
        self.budget = MAX_QUERY_TOKENS

    def add_words(self, raw: str, as_phrase: bool) -> None:
        raw_tokens = _RAW_TOKEN.findall(raw)
        if not as_phrase:  # inside quotes "and" is a word; bare upper-case AND is an attempted operator
            self.ignored.extend(t for t in raw_tokens if t in OPERATORS)
            raw_tokens = [t for t in raw_tokens if t not in OPERATORS]
        tokens = tokenise(" ".join(raw_tokens))
        if len(tokens) > self.budget:
            self.ignored.append(" ".join(tokens[self.budget :]))
            tokens = tokens[: self.budget]
        self.budget -= len(tokens)
        if len(tokens) > 1:
            # A quoted phrase, or one chunk that punctuation splits ("57-NQ"): its parts side by side.
            if tuple(tokens) not in self.phrases:
                self.phrases.append(tuple(tokens))
        elif tokens and tokens[0] not in self.terms:
            self.terms.append(tokens[0])

    def add_filter(self, key: str, value: str, chunk: str) -> None:
        value = value.strip()
        if key in ("after", "before"):
            parsed = _date(value)
            if parsed is None:
                self.ignored.append(chunk)
            else:
                self.filters[key] = parsed
        elif key == "course":
            course = value.lower()
            if course:
                self.filters[key] = course
            else:
                self.ignored.append(chunk)
        else:
            folded = " ".join(fold(value).split())
            if folded:
                self.filters[key] = folded
            else:
                self.ignored.append(chunk)

    def build(self) -> SearchQuery:
        return SearchQuery(tuple(self.terms), tuple(self.phrases), ignored=tuple(self.ignored), **self.filters)  # type: ignore[arg-type]


def parse_query(raw: object) -> SearchQuery:
    """Parse what a user typed into a ``SearchQuery``; never raises, whatever the input."""
    builder = _Builder()
    for match in _CHUNK.finditer(clean_query_text(raw)):
        key = match.group("key")
        if key is not None:
            value = match.group("quoted") if match.group("quoted") is not None else match.group("value") or ""
            if key.lower() in FILTER_KEYS:
                builder.add_filter(key.lower(), value, match.group(0))
            else:
                builder.add_words(match.group(0).replace('"', " "), as_phrase=False)
        elif match.group("phrase") is not None:
            builder.add_words(match.group("phrase"), as_phrase=True)
        else:
            builder.add_words(match.group("word"), as_phrase=False)
    return builder.build()
