"""The query language, its escaping into FTS5, tiers, snippets and grouping (all pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from diemcau.core.search_match import EXACT, FOLDED, course_tag, fts5_expression, fts5_string, match_tiers
from diemcau.core.search_query import MAX_QUERY_CHARS, MAX_QUERY_TOKENS, SearchQuery, clean_query_text, parse_query
from diemcau.core.search_results import (
    DOCUMENT,
    SPOKEN,
    SegmentMatch,
    build_hits,
    group_matches,
    highlight,
    player_link,
)

HOSTILE = [
    "đảng AND viên",
    "đảng OR viên",
    "NOT đảng",
    "đảng NEAR viên",
    "NEAR(đảng viên, 2)",
    'đảng"',
    '"đảng',
    '"""',
    '" "',
    "đảng*",
    "*",
    "-đảng",
    "^đảng",
    "(đảng",
    "đảng)",
    "()",
    "{exact}: đảng",
    "exact:đảng",
    "folded : x",
    "tags:abc",
    "đảng viên" * 2000,
    "x" * 10_000,
    "😀" * 500,
    "đảng 😀 viên",
    "\x00",
    "đảng\x00viên",
    "\x01\x02\x1b[31m",
    "\ud800",
    "'; DROP TABLE search_segments; --",
    "%_\\",
    "<script>alert(1)</script>",
    "course:",
    'speaker:"',
    "after:not-a-date",
    "before:2026-02-30",
    ":::",
    "a:b:c",
    "\u202e\u200b",
    "",
    "   ",
    "\n\r\t",
    "đảng & viên | !x <-> y",
    "'quoted' \\\" back\\slash",
]


def test_words_phrases_and_filters() -> None:
    """Are plain words, a quoted phrase and every filter read from one query?"""
    query = parse_query(
        'Đảng viên "nghị quyết 57" course:nq-57 speaker:"Nguyễn Văn A" resolution:NQ57 after:2026-01-01 '
        "before:2026-12-31"
    )
    assert query.terms == ("đảng", "viên")
    assert query.phrases == (("nghị", "quyết", "57"),)
    assert query.course == "nq-57" and query.speaker == "nguyen van a" and query.resolution == "nq57"
    assert (query.after, query.before) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert query.has_diacritics and not query.is_empty and query.ignored == ()


def test_unclosed_quote_runs_to_the_end() -> None:
    """Does an unbalanced quote make a phrase of the rest rather than fail?"""
    assert parse_query('học "nghị quyết trung ương').phrases == (("nghị", "quyết", "trung", "ương"),)


def test_punctuated_word_is_a_phrase_of_its_parts() -> None:
    """Is "57-NQ/TW" searched as the phrase 57 nq tw (as it was indexed)?"""
    assert parse_query("57-NQ/TW").phrases == (("57", "nq", "tw"),)


def test_operators_are_dropped_and_named() -> None:
    """Are bare upper-case AND/OR/NOT/NEAR dropped (and reported), while quoted ones stay words?"""
    query = parse_query('đảng AND viên OR NOT x NEAR y "AND so"')
    assert query.terms == ("đảng", "viên", "x", "y")
    assert query.phrases == (("and", "so"),)
    assert query.ignored == ("AND", "OR", "NOT", "NEAR")


def test_bad_filters_are_dropped_and_named() -> None:
    """Are an impossible date and an empty filter ignored, named, and the words still searched?"""
    query = parse_query("đảng before:2026-02-30 after:hôm-qua course: speaker:")
    assert query.terms == ("đảng",) and query.before is None and query.after is None and query.course is None
    assert query.ignored == ("before:2026-02-30", "after:hôm-qua", "course:", "speaker:")


def test_unknown_key_is_searched_as_words() -> None:
    """Is "http://x" or "foo:bar" (not a filter) searched as words rather than dropped?"""
    assert parse_query("foo:bar").phrases == (("foo", "bar"),)


def test_filters_alone_make_no_search() -> None:
    """Does a query of filters only count as empty (nothing to look for)?"""
    assert parse_query("course:nq57 after:2026-01-01").is_empty


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_queries_parse(raw: str) -> None:
    """Does every hostile string parse without raising, into bounded, letters-and-digits-only tokens?"""
    query = parse_query(raw)
    assert len(query.tokens) <= MAX_QUERY_TOKENS
    assert all(token.isalnum() for token in query.tokens)
    for tier in match_tiers(query):
        expression = fts5_expression(tier)
        assert expression.count('"') % 2 == 0


def test_non_string_input_is_an_empty_query() -> None:
    """Does a non-string (None, bytes, a number) parse to an empty query rather than raise?"""
    for raw in (None, b"dang", 42, ["x"]):
        assert parse_query(raw) == SearchQuery()


def test_long_query_is_cut_at_a_word_boundary() -> None:
    """Is a 10,000-character query cut to the limit at a space, not mid-word, and to 16 words?"""
    text = clean_query_text("nghị quyết " * 1000)
    assert len(text) <= MAX_QUERY_CHARS and set(text.split()) == {"nghị", "quyết"}  # no word cut in half
    query = parse_query("a b c d e f g h i j k l m n o p q r s t")
    assert len(query.terms) == MAX_QUERY_TOKENS and query.ignored == ("q", "r", "s", "t")


def test_control_characters_become_spaces() -> None:
    """Do NUL and other control characters separate words instead of reaching the engine?"""
    assert parse_query("đảng\x00viên\x1bx").terms == ("đảng", "viên", "x")


def test_fts5_string_doubles_quotes() -> None:
    """Does the FTS5 string literal escape quotes the way FTS5 reads them (datasette's rule)?"""
    assert fts5_string('a"b') == '"a""b"'
    assert fts5_string("NEAR") == '"NEAR"'


def test_fts5_expression_quotes_every_group() -> None:
    """Is each group a column-filtered quoted phrase, ANDed, with the course tags ORed?"""
    tier = match_tiers(parse_query('dang vien "nghi quyet"'))[1]
    assert fts5_expression(tier, (course_tag("nq-57"),)) == (
        'folded : "dang" AND folded : "vien" AND folded : "nghi quyet" AND tags : ("c6e712d3537")'
    )


def test_tiers_exact_before_folded_phrase_before_scattered() -> None:
    """With diacritics: exact phrase, exact words, then folded words — in that order?"""
    tiers = match_tiers(parse_query("đảng viên"))
    assert [(t.column, t.groups) for t in tiers] == [
        (EXACT, (("đảng", "viên"),)),
        (EXACT, (("đảng",), ("viên",))),
        (FOLDED, (("dang",), ("vien",))),
    ]
    assert [(t.column, t.groups) for t in match_tiers(parse_query("dang vien"))] == [
        (FOLDED, (("dang", "vien"),)),
        (FOLDED, (("dang",), ("vien",))),
    ]


def test_query_without_diacritics_has_folded_tiers_only() -> None:
    """Does "dang vien" search only the folded column (so it matches every diacritic form alike)?"""
    assert {t.column for t in match_tiers(parse_query("dang vien"))} == {FOLDED}
    assert len(match_tiers(parse_query("ban"))) == 1


def test_course_tag_is_one_token() -> None:
    """Is a course id with '-' and '_' turned into a single letters-and-digits token?"""
    assert course_tag("nq-57_a").isalnum() and course_tag("nq-57") != course_tag("nq57")


def test_highlight_escapes_markup() -> None:
    """Does a transcript with HTML come out escaped, with only our <mark> tags added?"""
    html = highlight('<script>alert("đảng")</script> & <img src=x onerror=1>', frozenset({"dang"}))
    assert html == "&lt;script&gt;alert(&quot;<mark>đảng</mark>&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=1&gt;"


def test_highlight_marks_every_diacritic_form() -> None:
    """Are all words that fold to a query word marked, whatever their diacritics and case?"""
    assert highlight("Bàn bạc, BÁN ban", frozenset({"ban"})) == (
        "<mark>Bàn</mark> bạc, <mark>BÁN</mark> <mark>ban</mark>"
    )


def test_highlight_windows_a_long_text() -> None:
    """Is a long passage cut to a window around the first match, with ellipses?"""
    text = " ".join(f"w{i}" for i in range(200)) + " đảng " + " ".join(f"v{i}" for i in range(200))
    snippet = highlight(text, frozenset({"dang"}), max_tokens=20)
    assert snippet.startswith("…") and snippet.endswith("…") and "<mark>đảng</mark>" in snippet
    assert len(snippet.split()) <= 24


def test_player_link_opens_at_the_second() -> None:
    """Does the deep link carry the whole second the hit starts at, with the id URL-quoted?"""
    assert player_link("/services/diemcau", "abc", 125.9) == "/services/diemcau/lectures/abc?t=125"
    assert player_link("", "a/b", None) == "/lectures/a%2Fb?t=0"


def _match(row: int, start: float, lecture: str = "L1", tier: int = 1, **kw: object) -> SegmentMatch:
    return SegmentMatch(
        row, lecture, "T", "c", kw.pop("kind", SPOKEN), start, start + 8, f"đảng {row}", tier=tier, **kw
    )  # type: ignore[arg-type]


def test_adjacent_hits_group_within_30_seconds() -> None:
    """Do hits of one lecture less than 30 s apart form one group, and farther ones stay apart?"""
    groups = group_matches([_match(1, 0), _match(2, 20), _match(3, 50), _match(4, 200), _match(5, 30, "L2")])
    assert sorted([m.row_id for m in g] for g in groups) == [[1, 2, 3], [4], [5]]


def test_groups_rank_by_their_best_member() -> None:
    """Does a group containing a better-tier match come before groups of weaker matches?"""
    groups = group_matches([_match(1, 0, tier=3), _match(2, 500, tier=0), _match(3, 510, tier=3)])
    assert [m.row_id for m in groups[0]] == [2, 3]


def test_document_hits_group_by_page_and_link_to_it() -> None:
    """Are document passages grouped by page, marked as documents and linked to their page?"""
    doc = dict(kind=DOCUMENT, doc_name="NQ 57.pdf")
    matches = [_match(1, 0, page=2, **doc), _match(2, 0, page=2, **doc), _match(3, 0, page=3, **doc)]
    hits = build_hits(matches, frozenset({"dang"}), "/p", 10)
    assert [(h.kind, h.page, h.segments) for h in hits] == [(DOCUMENT, 2, 2), (DOCUMENT, 3, 1)]
    assert hits[0].link == "/p/lectures/L1?doc=NQ%2057.pdf&page=2"


def test_grouped_hit_spans_its_members() -> None:
    """Does a grouped hit start at its first segment, end at its last, and join the snippets?"""
    hit = build_hits([_match(1, 10), _match(2, 25)], frozenset({"dang"}), "/p", 5)[0]
    assert (hit.start, hit.end, hit.segments, hit.link) == (10, 33, 2, "/p/lectures/L1?t=10")
    assert hit.snippet == "<mark>đảng</mark> 1 … <mark>đảng</mark> 2"
