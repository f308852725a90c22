"""Aligning a transcript to the lecture's documents (asr/doc_align.py): pure, no model."""

from __future__ import annotations

from diemcau.asr.doc_align import AlignOptions, align_to_documents, document_sentences, fold
from diemcau.core.transcript import Segment, Word

RESOLUTION = (
    "Nghị quyết số 57-NQ/TW của Bộ Chính trị về đột phá phát triển khoa học, công nghệ và chuyển đổi số quốc gia.\n"
    "Một trăm phần trăm chi bộ ở xã, phường, thị trấn được kết nối hội nghị trực tuyến với cấp ủy cấp trên.\n"
    "Mỗi đảng viên phải gương mẫu học tập, làm chủ công nghệ số và tích cực tham gia các buổi học tập trực tuyến.\n"
    "Văn phòng Trung ương Đảng theo dõi, đôn đốc và định kỳ hằng năm báo cáo Bộ Chính trị.\n"
    "Thứ hai, chuyển đổi số phải được triển khai toàn diện, đồng bộ, lấy người dân và doanh nghiệp làm trung tâm."
)
# What Whisper base wrote for that last sentence in the benchmark lecture (bench/asr_quality.py --documents).
GARBLED = "Thứ thái, kim bôi sô phải, tìm khái và nhinh tầng mô, lấy lì chân và nhịt làm thông tâm."
QUOTED = "Một trăm phần trăm chi bộ ở xã, phường, thị trấn được kết nối hội nghị trực tuyến với cấp ủy cấp trên."
OPENING = "Thưa các đồng chí, hôm nay chúng ta học nghị quyết mới."
OWN_WORDS = "Hợp tác xã nông nghiệp của thôn đã bắt đầu bán nông sản qua sàn thương mại điện tử."


def segments(*texts: str, probability: float = 0.9) -> tuple[Segment, ...]:
    """One segment per text, five seconds each, with a word (of that probability) whose timing a change drops."""
    return tuple(
        Segment(n, 5.0 * n, 5.0 * n + 4.5, text, (Word(5.0 * n, 5.0 * n + 1, " " + text.split()[0], probability),))
        for n, text in enumerate(texts)
    )


def test_folding_merges_tones_and_the_finals_whisper_confuses() -> None:
    """Do "giao ban trực tuyến" and what base writes for it, with wrong tones, initials and finals, fold alike?"""
    assert fold("Giao ban trực tuyến") == fold("dao bàn chựt tuyếng")
    assert fold("kết nối") == fold("kếc nội")
    assert fold("Kỹ thuật") == fold("kĩ thuậc")
    assert fold("57") == fold("năm mươi bảy")
    assert fold("trăm") != fold("tâm")


def test_an_in_document_sentence_heard_with_errors_is_replaced_exactly() -> None:
    """A quoted sentence heard with tone and final-consonant errors, across two segments: is it the document's
    exact words, spread over both segments with their times kept, and the segment before left alone?"""
    heard = segments(
        OPENING,
        "Một chăm phần trăm chi bồ ở xa, phương, thị trấn được kếc nối hội nghi",
        "chực tuyếng với cấp úy cấp chên.",
    )
    aligned = align_to_documents(heard, [RESOLUTION])
    assert aligned.segments[0] == heard[0]
    assert " ".join(s.text for s in aligned.segments[1:]) == QUOTED
    assert all(s.text for s in aligned.segments)
    assert [(s.index, s.start, s.end) for s in aligned.segments] == [(s.index, s.start, s.end) for s in heard]
    assert aligned.segments[1].words == ()  # changed text: the old word timings no longer apply
    [match] = aligned.replaced
    assert (match.sentence, match.first_segment, match.last_segment) == (QUOTED, 1, 2)
    assert match.score >= AlignOptions().replace_at
    assert match.texts == tuple((s.index, s.text) for s in aligned.segments[1:])  # what was written, per segment


def test_a_sentence_not_in_the_document_stays_as_whisper_wrote_it() -> None:
    """Do no harm: are the lecturer's own sentences, heard well or badly, left exactly as they were?"""
    heard = segments(OPENING, OWN_WORDS, "Hợp tác xa nông nghiệp của thông đã bắc đầu bán nông sạn qua sàn thương mại.")
    aligned = align_to_documents(heard, [RESOLUTION])
    assert aligned.segments == heard
    assert aligned.replaced == ()


def test_a_near_miss_becomes_a_suggestion_not_a_replacement() -> None:
    """The lecturer's paraphrase of a document sentence (another ending): is it only offered to the trainer?"""
    paraphrase = "Mỗi đảng viên cần tích cực tham gia các buổi học tập trực tuyến do huyện ủy tổ chức."
    heard = segments(OPENING, paraphrase)
    aligned = align_to_documents(heard, [RESOLUTION])
    assert aligned.segments == heard
    [suggestion] = aligned.suggested
    assert suggestion.sentence.startswith("Mỗi đảng viên phải gương mẫu")
    assert AlignOptions().suggest_at <= suggestion.score < AlignOptions().replace_at
    assert not suggestion.replaced


def test_a_suggestion_carries_each_segments_text_with_the_documents_words() -> None:
    """What accepting a suggestion would write: each covered segment's whole text, the document's sentence in
    place of the stretch and the lecturer's words around it kept — while the transcript itself is unchanged?"""
    paraphrase = "Mỗi đảng viên cần tích cực tham gia các buổi học tập trực tuyến do huyện ủy tổ chức."
    heard = segments(OPENING, paraphrase)
    aligned = align_to_documents(heard, [RESOLUTION])
    assert aligned.segments == heard
    [suggestion] = aligned.suggested
    assert [index for index, _ in suggestion.texts] == [0, 1]
    written = " ".join(text for _, text in suggestion.texts)
    assert written.startswith("Thưa các ") and written.endswith(" do huyện ủy tổ chức.")
    assert suggestion.sentence in written and suggestion.heard not in written


def test_a_sentence_wrapped_over_lines_of_a_pdf_is_one_sentence() -> None:
    """A PDF's text breaks lines inside sentences: is a wrapped sentence still found whole (and replaced), while a
    heading on its own line stays apart?"""
    wrapped = "NGHỊ QUYẾT\nMột trăm phần trăm chi bộ ở xã, phường, thị trấn được kết nối hội nghị trực tuyến với\ncấp ủy cấp trên."
    assert [s.text for s in document_sentences([wrapped])] == [QUOTED]
    heard = segments(
        OPENING,
        "Một chăm phần trăm chi bồ ở xa, phương, thị trấn được kếc nối hội nghi chực tuyếng với cấp úy cấp chên.",
    )
    assert align_to_documents(heard, [wrapped]).segments[1].text == QUOTED


def test_a_weaker_match_is_replaced_only_where_whisper_was_unsure() -> None:
    """Base's real, badly garbled hearing of a quoted sentence (similarity between ``unsure_replace_at`` and
    ``replace_at``): replaced when Whisper's words were unsure, only suggested when it was sure of them or when
    their probabilities are unknown."""
    options = AlignOptions()
    unsure = align_to_documents(segments(OPENING, GARBLED, probability=0.45), [RESOLUTION])
    assert unsure.segments[1].text == RESOLUTION.splitlines()[-1]
    [match] = unsure.replaced
    assert options.unsure_replace_at <= match.score < options.replace_at
    for heard in (segments(OPENING, GARBLED, probability=0.9), (Segment(0, 0.0, 5.0, GARBLED),)):
        sure = align_to_documents(heard, [RESOLUTION])
        assert sure.segments == heard and len(sure.suggested) == 1


def test_a_sentence_quoted_twice_is_replaced_in_both_places() -> None:
    """Does a lecturer who reads the same sentence twice get it corrected both times, never overlapping?"""
    garbled = "Văn phòng Trung ương Đảng theo giỏi, đôn đốc và định kì hằng nam bao cáo Bộ Chính chị."
    aligned = align_to_documents(segments(garbled, OWN_WORDS, garbled), [RESOLUTION])
    expected = "Văn phòng Trung ương Đảng theo dõi, đôn đốc và định kỳ hằng năm báo cáo Bộ Chính trị."
    assert [s.text for s in aligned.segments] == [expected, OWN_WORDS, expected]


def test_hostile_input_neither_crashes_nor_replaces_wildly() -> None:
    """Empty documents or transcript, a huge document, one word repeated, odd Unicode: nothing crashes, and
    nothing but a real quotation is replaced."""
    heard = segments(OPENING, OWN_WORDS, "đảng đảng đảng viên")
    assert align_to_documents(heard, []).segments == heard
    assert align_to_documents(heard, ["", "   ", "\n\n"]).segments == heard
    assert align_to_documents((), [RESOLUTION]).matches == ()
    assert align_to_documents(heard, ["đảng " * 200_000]).segments == heard
    assert align_to_documents(heard, ["Đảng. " * 50_000 + "Đảng đảng đảng viên đảng đảng."]).replaced == ()
    odd = "\u202e\u200bđ\u0301ảng\x00 viên 🎉 \ud800 ﷽ \u0000\u0000 ..."
    assert align_to_documents(segments(odd, OPENING), [odd * 3, RESOLUTION]).segments[1] == segments(odd, OPENING)[1]
    weird = segments(".", "—", "?!", OWN_WORDS)
    assert align_to_documents(weird, [RESOLUTION, "...", "??"]).segments == weird
    huge = " ".join([OWN_WORDS] * 400)  # a 30 000-character "segment" against a 1 MB document
    assert align_to_documents(segments(huge), [RESOLUTION * 1000]).replaced == ()


def test_long_and_repeated_document_sentences_are_bounded() -> None:
    """Is a sentence of thousands of syllables cut into bounded pieces, and a repeated one kept once?"""
    pieces = document_sentences(["Ban Chấp hành Trung ương " * 1000, RESOLUTION, RESOLUTION])
    assert all(8 <= len(p.folded.split()) <= 60 for p in pieces)
    assert len({p.folded for p in pieces}) == len(pieces)
    assert sum(p.text == QUOTED for p in pieces) == 1


def test_a_sentence_shared_over_captions_is_cut_where_the_speaker_pauses() -> None:
    """When the document's sentence is shared out over the segments Whisper heard it in, is each cut moved to
    follow a nearby comma (so "khoa học," is not split over two captions), every word kept once and in order, and
    a cut with no punctuation near it left where the proportion puts it?"""
    from diemcau.asr.doc_align import _spread

    sentence = (
        "Hôm nay chúng ta học tập, quán triệt Nghị quyết số năm mươi bảy của Bộ Chính trị về đột phá phát triển "
        "khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia."
    )
    parts = _spread(sentence, [6, 15, 12])  # the demo lecture: Whisper heard it in segments of these sizes
    assert [" ".join(part) for part in parts][:2] == [
        "Hôm nay chúng ta học tập,",
        "quán triệt Nghị quyết số năm mươi bảy của Bộ Chính trị về đột phá phát triển khoa học,",
    ]
    assert [word for part in parts for word in part] == sentence.split()
    plain = "một hai ba bốn năm sáu bảy tám chín mười mười một mười hai"
    assert [len(part) for part in _spread(plain, [1, 1])] == [7, 7]
