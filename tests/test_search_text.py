"""Search normalisation (pure): NFC, lowercase, tone and diacritic folding with đ→d, tokens."""

from __future__ import annotations

import unicodedata

import pytest

from diemcau.core.search_text import (
    MAX_TOKEN_CHARS,
    fold,
    fold_token,
    fold_tokens,
    has_diacritics,
    index_forms,
    normalise,
    token_spans,
    tokenise,
)


def test_fold_removes_tones_and_folds_d_stroke() -> None:
    """Does "Đảng viên" fold to "dang vien" (đ→d, which Unicode decomposition alone misses)?"""
    assert fold("Đảng viên") == "dang vien"
    assert unicodedata.normalize("NFD", "đ") == "đ"  # why đ needs folding by hand
    assert fold("ĐẠI HỘI ĐẢNG TOÀN QUỐC LẦN THỨ XIV") == "dai hoi dang toan quoc lan thu xiv"


@pytest.mark.parametrize("word", ["ban", "bàn", "bán", "bạn", "bản", "bận", "BÀN", "Bạn"])
def test_colliding_words_fold_alike(word: str) -> None:
    """Do ban/bàn/bán/bạn/bản/bận (the collision the ranking must resolve) all fold to "ban"?"""
    assert fold(word) == "ban"


def test_every_vietnamese_vowel_folds_to_a_plain_letter() -> None:
    """Does each of the 134 toned vowels (ă, â, ê, ô, ơ, ư with five tones) fold to a, e, i, o, u or y?"""
    vowels = "aăâeêioôơuưy"
    tones = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]
    letters = {unicodedata.normalize("NFC", v + t) for v in vowels for t in tones}
    letters |= {letter.upper() for letter in letters}
    assert {fold(letter) for letter in letters} == set("aeiouy")


def test_decomposed_input_equals_composed() -> None:
    """Does text typed in decomposed form (NFD, as some keyboards send it) normalise like NFC text?"""
    composed = "Nghị quyết Đại hội"
    decomposed = unicodedata.normalize("NFD", composed)
    assert normalise(decomposed) == normalise(composed) == "nghị quyết đại hội"
    assert tokenise(decomposed) == tokenise(composed)
    assert fold(decomposed) == "nghi quyet dai hoi"


def test_tokens_are_letters_and_digits_only() -> None:
    """Do punctuation, operators, emoji and control characters separate words and never become tokens?"""
    text = 'Nghị quyết 57-NQ/TW: "đột phá"! (AND) NEAR* -x ^y 😀\x00tab\there'
    assert tokenise(text) == ["nghị", "quyết", "57", "nq", "tw", "đột", "phá", "and", "near", "x", "y", "tab", "here"]


def test_long_runs_are_cut() -> None:
    """Is a pasted run of 10,000 letters cut into bounded tokens rather than indexed as one?"""
    assert {len(t) for t in tokenise("a" * 10_000)} == {MAX_TOKEN_CHARS, 10_000 % MAX_TOKEN_CHARS}


def test_fast_folding_agrees_with_word_by_word_folding() -> None:
    """Does the one-pass fold of indexed text give exactly the word-by-word fold, Latin or not?"""
    for text in ("Đảng viên ĐỔI MỚI ưu tiên", "İstanbul Ελληνικά άλφα ǅ", "a" * 70, "123 abc"):
        exact, folded = index_forms(text)
        assert folded == " ".join(fold_tokens(tokenise(text)))


def test_lowercasing_that_adds_a_mark_stays_one_token() -> None:
    """Does a letter whose lowercase gains a combining mark (İ → i̇) still give one clean token?"""
    assert tokenise("İstanbul") == ["istanbul"]


def test_index_forms_align_position_for_position() -> None:
    """Do the exact and folded forms have the same words in the same places (phrases match in both)?"""
    exact, folded = index_forms("Đồng chí Tổng Bí thư phát biểu, nhấn mạnh: đổi mới!")
    assert exact == "đồng chí tổng bí thư phát biểu nhấn mạnh đổi mới"
    assert folded == "dong chi tong bi thu phat bieu nhan manh doi moi"
    assert len(exact.split()) == len(folded.split())
    assert fold_tokens(exact.split()) == folded.split()


def test_token_spans_point_into_the_text() -> None:
    """Do token spans give offsets of each word in the (NFC) text, for highlighting?"""
    text = "Bàn về <b>đảng</b>"
    assert [(text[s:e], tok) for s, e, tok in token_spans(text)] == [
        ("Bàn", "bàn"),
        ("về", "về"),
        ("b", "b"),
        ("đảng", "đảng"),
        ("b", "b"),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("dang vien", False),
        ("đảng viên", True),
        ("dang viên", True),
        ("Đ", True),
        ("bàn", True),
        ("", False),
        ("NQ 57", False),
        ("trong", False),
    ],
)
def test_has_diacritics(query: str, expected: bool) -> None:
    """Is a query with any diacritic or đ recognised as typed on a Vietnamese keyboard?"""
    assert has_diacritics(query) is expected


def test_fold_token_is_idempotent() -> None:
    """Does folding a folded word change nothing (so folding twice, on index and query, is safe)?"""
    for word in ("đảng", "nghị", "quyết", "ưu", "tiên", "xyz"):
        assert fold_token(fold_token(word)) == fold_token(word)
