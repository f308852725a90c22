"""Corrections: each edit validated, versioned (who, when, before, after), and carried over when a lecture is
re-transcribed, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters import transcript_store as store
from diemcau.adapters.db.models_transcript import TranscriptEditRow
from diemcau.adapters.transcript_edits import (
    CorrectedTranscriptError,
    apply_document_alignment,
    apply_edit,
    check_may_replace,
    correction_count,
    edit_history,
    reapply_corrections,
    replace_transcript,
    revert_edit,
)
from diemcau.core.corrections import SYSTEM_EDITOR, CorrectionError, SegmentState, TranscriptEdit, corrected_segment
from diemcau.core.transcript import Segment, Transcript
from diemcau.jobs.transcribe_task import align_to_materials
from tests.transcript_fixtures import LECTURE_ID, sample_transcript, seed_lecture, words_of


@pytest.fixture
def lecture(session_factory: sessionmaker[Session], tmp_path: Path) -> Path:
    """A lecture with the sample transcript; returns the store folder."""
    seed_lecture(session_factory)
    store.write_transcript(tmp_path, sample_transcript())
    return tmp_path


def _rows(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(TranscriptEditRow)) or 0


@pytest.mark.parametrize(
    ("index", "changes", "key"),
    [
        (9, {"text": "x"}, "segment_not_found"),
        (1, {}, "edit_empty"),
        (1, {"text": "   "}, "edit_text_empty"),
        (1, {"text": "x" * 2001}, "edit_text_too_long"),
        (1, {"text": "hôm nay chúng ta học tập nghị quyết"}, "edit_no_change"),
        (1, {"start": -1.0}, "edit_bad_time"),
        (1, {"end": float("nan")}, "edit_bad_time"),
        (1, {"start": 6.0}, "edit_end_before_start"),
        (1, {"start": 5.0, "end": 4.0}, "edit_end_before_start"),
        (1, {"start": 2.0}, "edit_overlaps_previous"),
        (1, {"end": 7.0}, "edit_overlaps_next"),
        (3, {"start": 8.5}, "edit_overlaps_previous"),
    ],
)
def test_edits_that_break_the_rules_are_refused(index: int, changes: dict, key: str) -> None:
    """Is each bad edit (unknown segment, nothing or no change, blank or long text, bad or overlapping
    times) refused with its own message?"""
    with pytest.raises(CorrectionError) as caught:
        corrected_segment(sample_transcript(), index, **changes)
    assert caught.value.message_key == key


def test_timing_may_move_into_gaps_and_words_follow() -> None:
    """May a segment grow into the gaps around it, and do its word times stay inside its new span?"""
    old, new = corrected_segment(sample_transcript(), 1, start=2.5, end=5.0)
    assert (new.start, new.end, new.text) == (2.5, 5.0, old.text)
    assert new.words and all(2.5 <= w.start < w.end <= 5.0 for w in new.words)
    _, retold = corrected_segment(sample_transcript(), 1, text="  hôm nay  chúng ta\nhọc ")
    assert retold.text == "hôm nay chúng ta học" and retold.words == ()


def test_an_edit_is_versioned_with_who_when_before_after(session_factory: sessionmaker[Session], lecture: Path) -> None:
    """Does an edit change the stored transcript and keep a version naming the editor, the time and both states?"""
    t0 = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    updated = apply_edit(session_factory, lecture, LECTURE_ID, 2, "b1002", text="của Ban Chấp hành Trung ương")
    apply_edit(session_factory, lecture, LECTURE_ID, 2, "b1003", start=6.25, end=9.5)
    assert updated.segments[2].text == "của Ban Chấp hành Trung ương"
    stored = store.load_transcript(lecture, LECTURE_ID)
    assert stored is not None and (stored.segments[2].start, stored.segments[2].end) == (6.25, 9.5)
    assert "Ban Chấp hành Trung ương" in (lecture / LECTURE_ID / "transcript.vtt").read_text(encoding="utf-8")
    first, second = edit_history(session_factory, LECTURE_ID)
    assert (first.editor, first.segment_index, first.changed) == ("b1002", 2, ("text",))
    assert first.before == SegmentState(6.5, 9.0, "của ban chấp hành trung ương")
    assert first.after == SegmentState(6.5, 9.0, "của Ban Chấp hành Trung ương")
    assert (second.editor, second.changed, second.after.end) == ("b1003", ("start", "end"), 9.5)
    assert t0 <= first.at <= second.at


def test_a_refused_edit_writes_nothing(session_factory: sessionmaker[Session], lecture: Path) -> None:
    """Does a refused edit leave no version and the transcript file untouched?"""
    before = (lecture / LECTURE_ID / "transcript.json").read_bytes()
    with pytest.raises(CorrectionError):
        apply_edit(session_factory, lecture, LECTURE_ID, 1, "b1002", end=7.5)
    with pytest.raises(CorrectionError) as caught:
        apply_edit(session_factory, lecture, "noLecture1", 0, "b1002", text="x")
    assert caught.value.message_key == "transcript_missing"
    assert _rows(session_factory) == 0
    assert (lecture / LECTURE_ID / "transcript.json").read_bytes() == before


def test_a_failed_write_records_no_edit(
    session_factory: sessionmaker[Session], lecture: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If writing the transcript fails, is the edit row rolled back with it?"""

    def disk_full(*_args: object, **_kwargs: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("diemcau.adapters.transcript_edits.write_transcript", disk_full)
    with pytest.raises(OSError):
        apply_edit(session_factory, lecture, LECTURE_ID, 0, "b1002", text="Kính thưa toàn thể các đồng chí")
    assert _rows(session_factory) == 0
    assert store.load_transcript(lecture, LECTURE_ID) == sample_transcript()


def test_a_failed_commit_restores_the_previous_transcript(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """If the version cannot be recorded (the lecture row vanished), is the old transcript written back?"""
    store.write_transcript(tmp_path, sample_transcript("lecGone01"))
    with pytest.raises(CorrectionError) as caught:
        apply_edit(session_factory, tmp_path, "lecGone01", 0, "b1002", text="Kính thưa toàn thể")
    assert caught.value.message_key == "lecture_not_found"
    assert store.load_transcript(tmp_path, "lecGone01") == sample_transcript("lecGone01")
    assert _rows(session_factory) == 0


def _shifted(transcript: Transcript, by: float) -> Transcript:
    """A re-transcription: same speech, times shifted, segments split differently, other spellings."""
    spans = [
        (0.0, 1.4, "kính thưa"),
        (1.4, 2.4, "các đồng chí"),
        (3.2, 6.1, "hôm nay chúng ta học tập nghị quyết"),
        (6.6, 10.3, "của ban chấp hành trung ương về công tác"),
        (10.3, 13.6, "xây dựng đảng"),
    ]
    segments = tuple(
        Segment(i, s + by, e + by, text, words_of(text, s + by, e + by)) for i, (s, e, text) in enumerate(spans)
    )
    return replace(transcript, segments=segments, model="small")


def test_corrections_survive_re_transcription(session_factory: sessionmaker[Session], lecture: Path) -> None:
    """Is a corrected lecture replaced only with force, and does the corrected text live on in the new
    transcript, with the old one kept as transcript.prev.json?"""
    apply_edit(session_factory, lecture, LECTURE_ID, 2, "b1002", text="của Ban Chấp hành Trung ương")
    apply_edit(session_factory, lecture, LECTURE_ID, 2, "b1002", text="của Ban Chấp hành Trung ương khóa XIII")
    apply_edit(session_factory, lecture, LECTURE_ID, 0, "b1003", text="Kính thưa các đồng chí!")
    corrected = store.load_transcript(lecture, LECTURE_ID)
    new = _shifted(sample_transcript(), by=0.1)
    with pytest.raises(CorrectedTranscriptError) as caught:
        replace_transcript(session_factory, lecture, new)
    assert caught.value.count == 3
    with pytest.raises(CorrectedTranscriptError):
        check_may_replace(session_factory, lecture, LECTURE_ID, force=False)
    assert store.load_transcript(lecture, LECTURE_ID) == corrected  # asking changed nothing
    final = replace_transcript(session_factory, lecture, new, force=True)
    texts = [s.text for s in final.segments]
    assert "của Ban Chấp hành Trung ương khóa XIII" in texts and "Kính thưa các đồng chí!" in texts
    assert "các đồng chí" not in texts and "kính thưa" not in texts  # replaced by the correction
    assert "hôm nay chúng ta học tập nghị quyết" in texts and "xây dựng đảng" in texts
    assert [s.index for s in final.segments] == list(range(len(final.segments)))
    assert [s.start for s in final.segments] == sorted(s.start for s in final.segments)
    assert store.load_transcript(lecture, LECTURE_ID) == final
    assert store.load_previous_transcript(lecture, LECTURE_ID) == corrected
    assert len(edit_history(session_factory, LECTURE_ID)) == 3  # the versions stay


def test_a_correction_is_kept_where_the_new_transcript_has_nothing() -> None:
    """When the new transcription dropped a stretch of audio, is the correction there still inserted?"""
    before, after = SegmentState(10.0, 13.5, "về công tác"), SegmentState(10.0, 13.5, "về công tác xây dựng Đảng")
    edit = TranscriptEdit(LECTURE_ID, 3, "b1002", dt.datetime(2026, 3, 1), before, after)
    new = replace(sample_transcript(), segments=sample_transcript().segments[:2])
    final = reapply_corrections(new, [edit])
    assert [s.text for s in final.segments][-1] == "về công tác xây dựng Đảng"


def test_without_word_times_partly_covered_segments_are_trimmed() -> None:
    """Without word times, is a mostly covered segment dropped and a slightly covered one trimmed?"""
    edit = TranscriptEdit(
        LECTURE_ID, 1, "b1002", dt.datetime(2026, 3, 1), SegmentState(3.0, 6.0, "a"), SegmentState(3.0, 6.0, "b")
    )
    segments = (Segment(0, 0.0, 3.5, "trước"), Segment(1, 3.5, 5.9, "giữa"), Segment(2, 5.5, 9.0, "sau"))
    final = reapply_corrections(Transcript(LECTURE_ID, "vi", segments), [edit])
    assert [(s.start, s.end, s.text) for s in final.segments] == [
        (0.0, 3.0, "trước"),
        (3.0, 6.0, "b"),
        (6.0, 9.0, "sau"),
    ]


def test_no_corrections_means_the_new_transcript_as_is(session_factory: sessionmaker[Session], lecture: Path) -> None:
    """Is an uncorrected lecture replaced without asking, and unchanged by re-application?"""
    new = _shifted(sample_transcript(), by=0.0)
    assert replace_transcript(session_factory, lecture, new) == new


QUOTED = "Một trăm phần trăm chi bộ ở xã, phường, thị trấn được kết nối hội nghị trực tuyến với cấp ủy cấp trên."
RESOLUTION = "Nghị quyết số 57-NQ/TW của Bộ Chính trị về chuyển đổi số quốc gia.\n" + QUOTED
HEARD = "Một chăm phần trăm chi bồ ở xa, phương, thị trấn được kếc nối hội nghi chực tuyếng với cấp úy cấp chên"


@pytest.fixture
def quoting(session_factory: sessionmaker[Session], tmp_path: Path) -> Path:
    """A lecture whose transcript quotes RESOLUTION (segment 1, as Whisper base heard it) among its own words."""
    seed_lecture(session_factory)
    texts = ("Kính thưa các đồng chí", HEARD, "xây dựng đảng")
    spans = ((0.0, 2.5), (3.0, 9.0), (10.0, 13.5))
    segments = tuple(Segment(i, s, e, t, words_of(t, s, e)) for i, ((s, e), t) in enumerate(zip(spans, texts)))
    store.write_transcript(tmp_path, replace(sample_transcript(), segments=segments))
    return tmp_path


def test_the_documents_correct_a_quoted_segment_as_a_versioned_system_edit(
    session_factory: sessionmaker[Session], quoting: Path
) -> None:
    """Is the quoted segment given the document's words, recorded as the system's edit (before/after), with
    the lecturer's own words untouched and no trainer correction counted?"""
    aligned = apply_document_alignment(session_factory, quoting, LECTURE_ID, [RESOLUTION])
    assert aligned is not None and len(aligned.replaced) == 1
    texts = [s.text for s in store.load_transcript(quoting, LECTURE_ID).segments]
    assert texts == ["Kính thưa các đồng chí", QUOTED, "xây dựng đảng"]
    [edit] = edit_history(session_factory, LECTURE_ID)
    assert (edit.editor, edit.segment_index, edit.before.text, edit.after.text) == (SYSTEM_EDITOR, 1, HEARD, QUOTED)
    assert correction_count(session_factory, LECTURE_ID) == 0  # a new transcription needs no --force for it
    assert apply_document_alignment(session_factory, quoting, LECTURE_ID, []) is None
    again = apply_document_alignment(session_factory, quoting, LECTURE_ID, [RESOLUTION])
    assert again is not None and len(edit_history(session_factory, LECTURE_ID)) == 1  # nothing left to change


def test_a_trainers_correction_is_never_overwritten_by_the_documents(
    session_factory: sessionmaker[Session], quoting: Path
) -> None:
    """A trainer wrote their own text over the quoted segment: does re-alignment leave it, only suggesting?"""
    own = "Một trăm phần trăm chi bộ được kết nối hội nghị trực tuyến với cấp ủy cấp trên"
    apply_edit(session_factory, quoting, LECTURE_ID, 1, "b1002", text=own)
    aligned = apply_document_alignment(session_factory, quoting, LECTURE_ID, [RESOLUTION])
    assert aligned is not None and aligned.replaced == () and len(aligned.suggested) == 1
    assert store.load_transcript(quoting, LECTURE_ID).segments[1].text == own
    assert [e.editor for e in edit_history(session_factory, LECTURE_ID)] == ["b1002"]


def test_a_system_correction_can_be_reverted_and_stays_reverted(
    session_factory: sessionmaker[Session], quoting: Path
) -> None:
    """Does reverting the system's edit bring Whisper's text back as the trainer's own correction, which a later
    alignment and a re-transcription both keep; and is a stale or unknown edit refused with nothing written?"""
    apply_document_alignment(session_factory, quoting, LECTURE_ID, [RESOLUTION])
    [system] = edit_history(session_factory, LECTURE_ID)
    reverted = revert_edit(session_factory, quoting, LECTURE_ID, system.id, "b1002")
    assert reverted.segments[1].text == HEARD
    history = edit_history(session_factory, LECTURE_ID)
    assert [(e.editor, e.after.text) for e in history] == [(SYSTEM_EDITOR, QUOTED), ("b1002", HEARD)]
    apply_document_alignment(session_factory, quoting, LECTURE_ID, [RESOLUTION])
    assert store.load_transcript(quoting, LECTURE_ID).segments[1].text == HEARD  # the trainer's choice holds
    for edit_id, key in ((system.id, "edit_not_current"), (10_000, "edit_not_found")):
        with pytest.raises(CorrectionError) as caught:
            revert_edit(session_factory, quoting, LECTURE_ID, edit_id, "b1002")
        assert caught.value.message_key == key
    assert len(edit_history(session_factory, LECTURE_ID)) == 2
    fresh = store.load_transcript(quoting, LECTURE_ID)
    final = replace_transcript(session_factory, quoting, fresh, force=True)
    assert final.segments[1].text == HEARD


def test_a_new_transcription_drops_system_corrections_without_asking(
    session_factory: sessionmaker[Session], quoting: Path
) -> None:
    """With only system corrections, is a new transcript stored without force and without them (the job
    aligns the new text again), the old corrections kept in the history?"""
    heard = store.load_transcript(quoting, LECTURE_ID)
    apply_document_alignment(session_factory, quoting, LECTURE_ID, [RESOLUTION])
    check_may_replace(session_factory, quoting, LECTURE_ID, force=False)
    final = replace_transcript(session_factory, quoting, heard)
    assert final.segments[1].text == HEARD
    assert len(edit_history(session_factory, LECTURE_ID)) == 1


def test_a_failed_alignment_leaves_whispers_transcript_and_no_edit(
    session_factory: sessionmaker[Session], quoting: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The job's alignment step on a transcript whose lecture row is gone: is the failure logged, with the
    stored transcript and the edit table left as they were (it is derived data, like search)?"""
    orphan = replace(store.load_transcript(quoting, LECTURE_ID), lecture_id="lecGone01")
    store.write_transcript(quoting, orphan)
    align_to_materials(session_factory, quoting, "lecGone01", (RESOLUTION,))
    assert store.load_transcript(quoting, "lecGone01") == orphan
    assert _rows(session_factory) == 0
    assert "not aligned to its materials" in caplog.text
