"""Caption formats: rendering WebVTT/SRT/TXT and parsing WebVTT/SRT with line-precise errors (pure)."""

from __future__ import annotations

import io

import pytest
import webvtt

from diemcau.core.captions import (
    CaptionError,
    cues_to_transcript,
    detect_format,
    format_timestamp,
    parse_captions,
    parse_srt,
    parse_timestamp,
    parse_vtt,
    render_srt,
    render_txt,
    render_vtt,
    strip_tags,
)
from diemcau.core.transcript import Segment, Transcript

TRANSCRIPT = Transcript(
    "lec1",
    "vi",
    (
        Segment(0, 0.0, 2.5, "Kính thưa các đồng chí"),
        Segment(1, 3.0, 6.25, "Nghị quyết Đại hội XIII & <Ban Chấp hành>"),
        Segment(2, 3725.5, 3730.125, "dòng một\n\ndòng hai"),
    ),
)


def test_timestamps_format_and_parse_back() -> None:
    """Do seconds survive formatting as hh:mm:ss.mmm (and SRT's comma), including hours and rounding?"""
    assert format_timestamp(3725.5) == "01:02:05.500"
    assert format_timestamp(0.0004) == "00:00:00.000"
    assert format_timestamp(59.9996, ",") == "00:01:00,000"
    assert parse_timestamp("01:02:05.500") == 3725.5
    assert parse_timestamp("02:05.500") == 125.5
    assert parse_timestamp("100:00:00.000") == 360000.0
    assert parse_timestamp("00:00:01,250", ",") == 1.25
    for bad in ("00:60:00.000", "1:2:3.4", "00:00:01,250x", "abc", "00:00:01"):
        assert parse_timestamp(bad) is None, bad
    assert parse_timestamp("00:00:01,250", ".") is None  # WebVTT does not take SRT's comma


def test_rendered_vtt_parses_back_in_our_parser_and_webvtt_py() -> None:
    """Does our WebVTT read back identically through our parser and through webvtt-py, a real parser?"""
    text = render_vtt(TRANSCRIPT)
    ours = parse_vtt(text)
    assert [(c.start, c.end, c.text) for c in ours.cues] == [
        (0.0, 2.5, "Kính thưa các đồng chí"),
        (3.0, 6.25, "Nghị quyết Đại hội XIII & <Ban Chấp hành>"),
        (3725.5, 3730.125, "dòng một\ndòng hai"),
    ]
    theirs = list(webvtt.from_buffer(io.StringIO(text)))
    assert [(c.start, c.end) for c in theirs] == [
        ("00:00:00.000", "00:00:02.500"),
        ("00:00:03.000", "00:00:06.250"),
        ("01:02:05.500", "01:02:10.125"),
    ]
    assert theirs[0].text == "Kính thưa các đồng chí" and theirs[2].text == "dòng một\ndòng hai"


def test_rendered_srt_and_txt() -> None:
    """Is SRT numbered with comma times and parse back, and is TXT one segment per line?"""
    text = render_srt(TRANSCRIPT)
    assert text.startswith("1\n00:00:00,000 --> 00:00:02,500\nKính thưa các đồng chí\n\n2\n")
    assert [(c.start, c.end) for c in parse_srt(text).cues] == [(0.0, 2.5), (3.0, 6.25), (3725.5, 3730.125)]
    assert render_txt(TRANSCRIPT).splitlines()[0] == "Kính thưa các đồng chí"
    assert render_txt(Transcript("x", "vi", ())) == ""
    assert render_vtt(Transcript("x", "vi", ())) == "WEBVTT\n"


def test_vtt_with_header_notes_styles_settings_tags_bom_and_crlf() -> None:
    """Are the header text, metadata, NOTE/STYLE/REGION blocks, identifiers, cue settings, markup, a BOM and
    CRLF line ends all handled the way browsers handle them?"""
    text = (
        "\ufeffWEBVTT - Bài giảng\r\nKind: captions\r\nLanguage: vi\r\n\r\n"
        "STYLE\r\n::cue { color: yellow }\r\n\r\n"
        "NOTE một ghi chú\r\nnhiều dòng\r\n\r\n"
        "REGION\r\nid:fred\r\n\r\n"
        "cue-1\r\n00:01.000 --> 00:04.000 align:start position:10%\r\n<v Báo cáo viên>Kính thưa</v> <i>các</i>\r\n"
        "<c.yellow>đồng chí</c> &amp; bạn\r\n\r\n"
        "00:00:05.000 --> 00:00:07.500\r\n<00:00:05.500>Nghị quyết\r\n"
    )
    parsed = parse_vtt(text)
    assert [(c.start, c.end, c.text, c.line) for c in parsed.cues] == [
        (1.0, 4.0, "Kính thưa các\nđồng chí & bạn", 15),
        (5.0, 7.5, "Nghị quyết", 19),
    ]


def test_unsorted_cues_are_sorted_and_overlaps_kept() -> None:
    """Policy: are cues out of order sorted, and overlapping cues kept as they are?"""
    text = "WEBVTT\n\n00:05.000 --> 00:06.000\nhai\n\n00:01.000 --> 00:05.500\nmột\n\n00:05.200 --> 00:07.000\nba\n"
    assert [c.text for c in parse_vtt(text).cues] == ["một", "hai", "ba"]


def test_strip_tags_keeps_text_only() -> None:
    """Do tags vanish, entities decode and blank lines drop?"""
    assert strip_tags("<b>a</b>  <ruby>b<rt>c</rt></ruby>\n\n&lt;d&gt;") == "a bc\n<d>"


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("", 0, "caption_empty"),
        ("\ufeff\r\n  \r\n", 0, "caption_empty"),
        ("WEBVT\n\n00:01.000 --> 00:02.000\nx\n", 1, "caption_not_webvtt"),
        ("WEBVTTX\n\n00:01.000 --> 00:02.000\nx\n", 1, "caption_not_webvtt"),
        ("WEBVTT\n00:01.000 --> 00:02.000\nx\n", 2, "caption_header_not_separated"),
        ("WEBVTT\n\n00:01.000 --> 00:02.000\nx\n\ncue-2\n00:03.000 00:04.000\ny\n", 7, "caption_missing_arrow"),
        ("WEBVTT\n\n00:01.000 --> 00:02.000\nx\n\njust text\n", 6, "caption_missing_arrow"),
        ("WEBVTT\n\nNOTE ok\n\n00:01.000 --> 00:02.000\nx\n\n\n00:03.00 --> 00:04.000\n", 9, "caption_bad_timestamp"),
        ("WEBVTT\n\n00:01.000 --> 00:61.000\nx\n", 3, "caption_bad_timestamp"),
        ("WEBVTT\n\n00:01,000 --> 00:02,000\nx\n", 3, "caption_bad_timestamp"),
        ("WEBVTT\n\n00:01.000 -->\nx\n", 3, "caption_bad_timestamp"),
        ("WEBVTT\n\n00:01.000 --> 00:02.000\nx\n\n00:05.000 --> 00:04.000\ny\n", 6, "caption_end_before_start"),
        ("WEBVTT\n\n00:05.000 --> 00:05.000\ny\n", 3, "caption_end_before_start"),
        ("WEBVTT\r\n\r\n00:01.000 --> 00:02.000\r\nx\r\n\r\n00:03.000 -> 00:04.000\r\ny", 6, "caption_missing_arrow"),
    ],
)
def test_malformed_webvtt_names_the_line(text: str, line: int, key: str) -> None:
    """Does each malformed WebVTT file fail with the right message at the exact line?"""
    with pytest.raises(CaptionError) as caught:
        parse_vtt(text)
    assert (caught.value.line, caught.value.message_key) == (line, key)


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("1\n00:00:01,000 --> 00:00:02,000\nx\n\ntwo\n00:00:03,000 --> 00:00:04,000\ny\n", 5, "caption_bad_counter"),
        ("1\n00:00:01,000 --> 00:00:02,000\nx\n\n2\n00:00:03,000 00:00:04,000\ny\n", 6, "caption_missing_arrow"),
        ("1\n00:00:01,000 --> 00:00:02,000\nx\n\n2\n", 6, "caption_missing_arrow"),
        ("1\n00:00:01,000 --> 00:00:02,000\nx\n\n2\n00:00:03:000 --> 00:00:04,000\ny\n", 6, "caption_bad_timestamp"),
        ("1\r\n00:00:09,000 --> 00:00:02,000\r\nx\r\n", 2, "caption_end_before_start"),
    ],
)
def test_malformed_srt_names_the_line(text: str, line: int, key: str) -> None:
    """Does each malformed SRT file fail with the right message at the exact line?"""
    with pytest.raises(CaptionError) as caught:
        parse_srt(text)
    assert (caught.value.line, caught.value.message_key) == (line, key)


def test_srt_with_bom_crlf_tags_and_multiline_cues() -> None:
    """Does an SRT file from a Windows tool (BOM, CRLF, <i> and <font> tags, two-line cues) parse?"""
    text = (
        "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Kính thưa</i>\r\n<font color=red>các đồng chí</font>\r\n"
        "\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nx\r\n"
    )
    parsed = parse_srt(text)
    assert parsed.format == "srt"
    assert [(c.start, c.end, c.text, c.line) for c in parsed.cues] == [
        (1.0, 2.5, "Kính thưa\ncác đồng chí", 2),
        (3.0, 4.0, "x", 7),
    ]


def test_format_is_detected_by_content() -> None:
    """Is WebVTT told from SRT by content, and is anything else refused at its first line?"""
    assert detect_format("\ufeffWEBVTT\n") == "vtt"
    assert detect_format("\n\n1\n00:00:01,000 --> 00:00:02,000\nx\n") == "srt"
    assert parse_captions("1\n00:00:01,000 --> 00:00:02,000\nx\n").format == "srt"
    with pytest.raises(CaptionError) as caught:
        detect_format("\n\n<html><body>404</body></html>\n")
    assert (caught.value.line, caught.value.message_key) == (3, "caption_unknown_format")


def test_cues_become_a_captions_transcript() -> None:
    """Does each cue become one segment, its lines joined, marked as coming from captions?"""
    transcript = cues_to_transcript(parse_vtt("WEBVTT\n\n00:01.000 --> 00:02.000\na\nb\n"), "lec1")
    assert transcript.source == "captions" and transcript.settings == {"caption_format": "vtt"}
    assert transcript.segments == (Segment(0, 1.0, 2.0, "a b"),)


def test_a_timing_line_without_arrow_is_reported_at_itself() -> None:
    """Is a broken timing line (a time, but no arrow) blamed, not the payload line after it?"""
    with pytest.raises(CaptionError) as caught:
        parse_srt("1\n00:00:01,000 --> 00:00:02,000\nx\n\n00:00:03,000 - 00:00:04,000\ny\n")
    assert (caught.value.line, caught.value.message_key) == (5, "caption_missing_arrow")
