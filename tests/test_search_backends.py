"""The search suite, run unchanged on both backends: SQLite FTS5 and PostgreSQL full text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from diemcau.core.search_results import DOCUMENT, SPOKEN
from diemcau.core.transcript import Segment
from diemcau.search.index import LectureMeta, LectureNotIndexed, SearchFilters, SearchIndex
from diemcau.search.postgres_index import PostgresSearchIndex
from diemcau.search.sqlite_index import SqliteSearchIndex
from tests.test_search_query import HOSTILE


@pytest.fixture
def index(db_url: str, tmp_path: Path) -> Iterator[SearchIndex]:
    """An empty search index on the backend of ``db_url`` (SQLite: its own file; PostgreSQL: that database)."""
    created: SearchIndex = (
        SqliteSearchIndex(tmp_path / "search.sqlite") if db_url.startswith("sqlite") else PostgresSearchIndex(db_url)
    )
    yield created
    created.close()


def spaced(*texts: str, gap: float = 60.0) -> list[Segment]:
    """Segments of 8 s, ``gap`` seconds apart (more than 30 s: each its own hit)."""
    return [Segment(i, i * gap, i * gap + 8, text) for i, text in enumerate(texts)]


def meta(lecture_id: str = "L1", course: str = "nq57", **kw: object) -> LectureMeta:
    return LectureMeta(lecture_id, kw.pop("title", f"Bài {lecture_id}"), course, **kw)  # type: ignore[arg-type]


def texts(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.text for hit in hits]


def test_exact_diacritics_rank_first(index: SearchIndex) -> None:
    """Does "bàn" rank the segment saying "bàn" above bán/bạn/ban/bản/bận, while "ban" finds all six?"""
    words = ["bán hàng", "bạn bè", "ban chấp hành", "bàn bạc kỹ", "bản án", "bận rộn"]
    index.index_lecture(meta(), spaced(*words))
    assert texts(index.search("bàn"))[0] == "bàn bạc kỹ"
    assert set(texts(index.search("bàn"))) == set(words)
    assert set(texts(index.search("ban"))) == set(words)
    assert texts(index.search("bận"))[0] == "bận rộn"


def test_phrase_beats_scattered_words(index: SearchIndex) -> None:
    """Does a segment with the words side by side outrank one where they are scattered, without quotes?"""
    index.index_lecture(meta("A"), spaced("đảng viên gương mẫu"))
    index.index_lecture(meta("B"), spaced("viên chức trong đảng bộ"))  # indexed later, scattered
    for query in ("đảng viên", "dang vien"):
        assert texts(index.search(query)) == ["đảng viên gương mẫu", "viên chức trong đảng bộ"]


def test_quoted_phrase_needs_adjacent_words(index: SearchIndex) -> None:
    """Does a quoted phrase match only the words side by side, in order?"""
    index.index_lecture(meta(), spaced("đảng viên gương mẫu", "viên chức trong đảng bộ", "viên đảng"))
    assert texts(index.search('"dang vien"')) == ["đảng viên gương mẫu"]


def test_query_without_diacritics_finds_d_stroke(index: SearchIndex) -> None:
    """Does "dang vien", typed without a Vietnamese keyboard, find "Đảng viên" (đ→d folded)?"""
    index.index_lecture(meta(), spaced("Đảng viên phải gương mẫu."))
    hits = index.search("dang vien")
    assert texts(hits) == ["Đảng viên phải gương mẫu."]
    assert hits[0].snippet == "<mark>Đảng</mark> <mark>viên</mark> phải gương mẫu."


def test_all_words_must_match(index: SearchIndex) -> None:
    """Are segments holding only some of the plain words left out?"""
    index.index_lecture(meta(), spaced("nghị quyết trung ương", "nghị quyết tỉnh"))
    assert texts(index.search("nghị quyết trung ương")) == ["nghị quyết trung ương"]


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_queries_never_raise(index: SearchIndex, raw: str) -> None:
    """Does every hostile query return a list (best effort) instead of raising, on both backends?"""
    index.index_lecture(meta(), spaced("đảng viên", "x", "near and or not", "script alert"))
    assert isinstance(index.search(raw), list)


def test_operator_words_search_as_words(index: SearchIndex) -> None:
    """Does "NEAR" in quotes find the word rather than act as an FTS operator?"""
    index.index_lecture(meta(), spaced("near and or not"))
    assert texts(index.search('"near and"')) == ["near and or not"]


def test_markup_in_a_transcript_stays_escaped(index: SearchIndex) -> None:
    """Does a transcript carrying HTML come back escaped in the snippet, with only <mark> added?"""
    index.index_lecture(meta(), spaced('<img src=x onerror="alert(1)"> đảng <script>alert(2)</script>'))
    snippet = index.search("đảng")[0].snippet
    assert "<img" not in snippet and "<script" not in snippet
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; <mark>đảng</mark> &lt;script&gt;" in snippet


def test_correction_updates_hits(index: SearchIndex) -> None:
    """After a corrected transcript is re-indexed, is the old wording gone and the new one found?"""
    index.index_lecture(meta(), spaced("nghị quyết về kinh tế tư nhân", "đổi mới sáng tạo"))
    index.index_lecture(meta(), spaced("nghị quyết về kinh tế tư nhân", "chuyển đổi số"))
    assert index.search("đổi mới") == []
    assert texts(index.search("chuyển đổi số")) == ["chuyển đổi số"]
    assert len(index.search("nghị quyết")) == 1  # no duplicate left behind


def test_unpublished_lecture_disappears(index: SearchIndex) -> None:
    """Does removing a lecture take all its hits (spoken and documents) and leave the others?"""
    index.index_lecture(meta("L1"), spaced("đảng viên"))
    index.index_document("L1", "nq.pdf", ["đảng viên trang một"])
    index.index_lecture(meta("L2"), spaced("đảng viên"))
    assert index.remove_lecture("L1") is True
    assert {hit.lecture_id for hit in index.search("đảng viên")} == {"L2"}
    assert index.lecture_ids() == {"L2"}
    assert index.remove_lecture("L1") is False


def test_documents_are_marked_and_survive_transcript_updates(index: SearchIndex) -> None:
    """Is a document hit kind "document" with its page, and does re-indexing the transcript keep it?"""
    index.index_lecture(meta(), spaced("phát biểu khai mạc"))
    assert index.index_document("L1", "Nghị quyết 57.txt", ["Trang đầu.", "Đột phá khoa học công nghệ."]) == 2
    index.index_lecture(meta(title="Bài mới"), spaced("phát biểu bế mạc"))
    hits = index.search("khoa học công nghệ")
    assert [(h.kind, h.doc_name, h.page, h.start, h.title) for h in hits] == [
        (DOCUMENT, "Nghị quyết 57.txt", 2, None, "Bài mới")
    ]
    assert hits[0].link.endswith("/lectures/L1?doc=Ngh%E1%BB%8B%20quy%E1%BA%BFt%2057.txt&page=2")
    assert index.index_document("L1", "Nghị quyết 57.txt", ["Chỉ còn một trang."]) == 1
    assert index.search("khoa học") == []


def test_document_for_unknown_lecture_is_refused(index: SearchIndex) -> None:
    """Is a document for a lecture the index does not hold refused, with nothing written?"""
    with pytest.raises(LectureNotIndexed):
        index.index_document("nope", "a.txt", ["đảng viên"])
    assert index.search("đảng viên") == [] and index.lecture_ids() == set()


def test_course_visibility_and_filter(index: SearchIndex) -> None:
    """Do the caller's visible courses and the query's course: filter both narrow the hits?"""
    index.index_lecture(meta("L1", "nq-57"), spaced("đảng viên"))
    index.index_lecture(meta("L2", "nq-66"), spaced("đảng viên"))
    index.index_lecture(meta("L3", "nq_57"), spaced("đảng viên"))

    def lectures(query: str, courses: set[str] | None = None) -> set[str]:
        filters = SearchFilters(None if courses is None else frozenset(courses))
        return {hit.lecture_id for hit in index.search(query, filters=filters)}

    assert lectures("đảng") == {"L1", "L2", "L3"}
    assert lectures("đảng", {"nq-57"}) == {"L1"}
    assert lectures("đảng", {"nq-57", "nq-66"}) == {"L1", "L2"}
    assert lectures("đảng course:nq-66") == {"L2"}
    assert lectures("đảng course:nq-66", {"nq-57"}) == set()  # a filter never widens what one may see
    assert lectures("đảng", set()) == set()


def test_speaker_resolution_and_date_filters(index: SearchIndex) -> None:
    """Do speaker:, resolution: (diacritics optional) and after:/before: narrow by lecture metadata?"""
    index.index_lecture(
        meta("L1", speaker="Nguyễn Văn Án", resolution="NQ 57", created_on=dt.date(2026, 1, 10)), spaced("đảng viên")
    )
    index.index_lecture(
        meta("L2", speaker="Trần Thị Bình", resolution="NQ 66", created_on=dt.date(2026, 3, 1)), spaced("đảng viên")
    )

    def lectures(query: str) -> set[str]:
        return {hit.lecture_id for hit in index.search(query)}

    assert lectures('đảng speaker:"nguyen van an"') == {"L1"}
    assert lectures("đảng speaker:Bình") == {"L2"}
    assert lectures('đảng resolution:"nq 66"') == {"L2"}
    assert lectures("đảng after:2026-02-01") == {"L2"}
    assert lectures("đảng before:2026-01-10") == {"L1"}
    assert lectures("đảng speaker:%") == set()  # LIKE wildcards are escaped


def test_adjacent_hits_are_grouped(index: SearchIndex) -> None:
    """Do matches a few seconds apart in one lecture come back as one hit spanning them?"""
    segments = [Segment(0, 10, 18, "đảng viên"), Segment(1, 20, 28, "là đảng viên"), Segment(2, 300, 308, "đảng")]
    index.index_lecture(meta(), segments)
    hits = sorted(index.search("đảng"), key=lambda h: h.start or 0)
    assert [(h.start, h.end, h.segments) for h in hits] == [(10, 28, 2), (300, 308, 1)]
    assert hits[0].kind == SPOKEN and hits[0].link == "/services/diemcau/lectures/L1?t=10"


def test_limit_caps_the_hits(index: SearchIndex) -> None:
    """Does ``limit`` cap the number of hits (and a silly limit stay within bounds)?"""
    index.index_lecture(meta(), spaced(*["đảng viên"] * 30))
    assert len(index.search("đảng", limit=5)) == 5
    assert len(index.search("đảng", limit=0)) == 1
    assert len(index.search("đảng", limit=10**9)) == 30


def test_rebuild_replaces_everything(index: SearchIndex) -> None:
    """Does a rebuild leave exactly the lectures it was given?"""
    index.index_lecture(meta("old"), spaced("đảng viên"))
    count = index.rebuild([(meta("L1"), spaced("đảng viên", "chi bộ")), (meta("L2"), spaced("chi bộ"))])
    assert count == 3 and index.lecture_ids() == {"L1", "L2"}
    assert {h.lecture_id for h in index.search("chi bo")} == {"L1", "L2"}


def test_rebuild_keeps_a_lectures_last_rows_and_later_writes(index: SearchIndex) -> None:
    """Does a rebuild given a lecture twice keep its last rows, and do writes after two rebuilds come newest first?"""
    index.rebuild([(meta("L1"), spaced("đảng viên")), (meta("L1"), spaced("chi bộ", "chi bộ thôn"))])
    assert index.lecture_ids() == {"L1"}
    assert index.search("đảng") == [] and len(index.search("chi bộ")) == 2
    assert index.rebuild([(meta("L1"), spaced("chi bộ")), (meta("L2"), spaced("chi bộ"))]) == 2  # a second one
    index.index_lecture(meta("L3"), spaced("chi bộ"))
    assert [hit.lecture_id for hit in index.search("chi bộ")] == ["L3", "L2", "L1"]
    index.ensure_index()
    assert index.rebuild([]) == 0 and index.lecture_ids() == set() and index.search("chi bộ") == []


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("window", [0, 50, 200])
def test_postgres_hits_are_the_same_past_the_newest_rows(db_url: str, window: int) -> None:
    """Does PostgreSQL find and rank rows past its newest window (through GIN) as it does within it, for every
    course and for a viewer's courses (the newest rows of those courses walked, then GIN)?"""
    wide, narrow = PostgresSearchIndex(db_url), PostgresSearchIndex(db_url, newest_window=window)
    sentences = ["đảng viên gương mẫu", "viên chức trong đảng bộ", "bàn bạc kỹ", "ban chấp hành", "của dân"]
    courses = ["nq57", "nq57", "nq68", "nq57", "nq66"]
    for number in range(5):
        segments = spaced(*[sentences[(number + i) % 5] for i in range(60)], gap=40)
        wide.index_lecture(meta(f"L{number}", courses[number], speaker=f"Báo cáo viên {number % 2}"), segments)
    with wide.engine.begin() as db:
        db.execute(text("ANALYZE search_segments"))  # the word shares that let a tier walk the newest rows
    assert wide._shares()[("exact", "đảng")] == pytest.approx(0.4, abs=0.05)
    queries = ["đảng viên", "dang vien", "bàn", '"chấp hành" ban', "của", "zzz", "đảng course:nq57"]
    queries += ['đảng speaker:"vien 1"', "đảng course:nq68"]
    viewers = [None, {"nq57"}, {"nq68", "nq66"}, {"nq57", "nq66", "gone"}, {f"c{k}" for k in range(10)} | {"nq68"}]
    for courses_seen in viewers:  # the last: more courses than a walk takes (COURSE_WALK_MOST), so any row
        filters = SearchFilters(courses=None if courses_seen is None else frozenset(courses_seen))
        answered = 0
        for query, limit in [(q, 20) for q in queries] + [("đảng", 3), ("ban", 5)]:
            expected = [hit.as_dict() for hit in wide.search(query, limit=limit, filters=filters)]
            assert [hit.as_dict() for hit in narrow.search(query, limit=limit, filters=filters)] == expected
            assert {hit["course_id"] for hit in expected} <= (courses_seen or set(courses))
            answered += bool(expected)
        assert answered >= (9 if courses_seen is None else 6)  # all but "zzz"; a viewer: some filters empty
    wide.close()
    narrow.close()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_postgres_ensure_index_adds_the_course_index_to_an_older_index(db_url: str) -> None:
    """Does an index made before the course walk get its ``(course_id, id)`` index, and lose the old one?"""
    index = PostgresSearchIndex(db_url)
    index.index_lecture(meta(), spaced("đảng viên"))
    with index.engine.begin() as db:  # the indexes as the older code left them
        db.execute(text("DROP INDEX search_segments_course_id"))
        db.execute(text("CREATE INDEX search_segments_course ON search_segments (course_id)"))
    index.ensure_index()
    with index.engine.connect() as db:
        names = set(db.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'search_segments'")).scalars())
    assert "search_segments_course_id" in names and "search_segments_course" not in names
    assert len(index.search("đảng viên", filters=SearchFilters(courses=frozenset({"nq57"})))) == 1
    index.close()


def test_ensure_index_is_idempotent(index: SearchIndex) -> None:
    """Can the index's tables be ensured again (every process start does) without losing rows?"""
    index.index_lecture(meta(), spaced("đảng viên"))
    index.ensure_index()
    index.ensure_index()
    assert len(index.search("đảng viên")) == 1


def test_empty_query_and_blank_segments(index: SearchIndex) -> None:
    """Does an empty query return nothing, and are blank segments skipped at indexing?"""
    assert index.index_lecture(meta(), spaced("", "   ", "đảng")) == 1
    assert index.search("") == [] and index.search("course:nq57") == []
