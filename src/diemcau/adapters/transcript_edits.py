"""Versioned corrections of the transcript store, and replacing a transcript without losing them.

Every correction is one row in ``transcript_edits`` (who, when, the segment before and after) *and* a new
``transcript.json``. ``apply_edit`` makes the two one logical operation: it stages the edit row in a
database transaction, writes the transcript inside it, and commits only after the write succeeded; if the
write fails there is no row, and if the commit fails the previous transcript is written back. A lecture's
writers are serialised by the store's ``lecture_lock``.

Re-transcription and caption import go through ``replace_transcript``: a lecture with corrections is only
replaced with ``force`` (the CLI's ``--force``, the API's confirmation), the current file is kept as
``transcript.prev.json``, and every correction is re-applied to the new transcript by time
(``core.corrections.reapply_corrections``), so none is ever lost.

**System corrections** (issue 18): ``apply_document_alignment`` puts the words of the lecture's documents over
the stretches of the transcript that quote them (``asr.doc_align``), each changed segment recorded as an edit
by ``SYSTEM_EDITOR``, all in one transaction with the write. A segment holding a trainer's correction is never
changed. ``revert_edit`` undoes any edit still in place (the undo is the reverting person's own correction).
``document_suggestions`` reads, without writing anything, the stretches whose document words are not in place:
the studio offers them to the trainer, and accepting one is an ordinary correction (``apply_edit``).
A new transcription does not carry system corrections over and needs no ``force`` for them: it is aligned
again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import LectureRow
from diemcau.adapters.db.models_transcript import TranscriptEditRow
from diemcau.adapters.transcript_store import (
    Store,
    keep_previous,
    lecture_lock,
    load_transcript,
    write_transcript,
)
from diemcau.asr.doc_align import AlignOptions, Alignment, DocumentMatch, align_to_documents
from diemcau.core.corrections import (
    SYSTEM_EDITOR,
    CorrectionError,
    SegmentState,
    TranscriptEdit,
    apply_correction,
    corrected_indexes,
    corrected_segment,
    current_segment,
    reapply_corrections,
    trainer_edits,
)
from diemcau.core.transcript import Transcript

__all__ = [
    "CorrectedTranscriptError",
    "CorrectionError",
    "apply_document_alignment",
    "apply_edit",
    "check_may_replace",
    "correction_count",
    "document_suggestions",
    "edit_history",
    "reapply_corrections",
    "replace_transcript",
    "revert_edit",
]


class Memo(Protocol):
    """Where an alignment is kept between requests (the API's ``ApiCaches.alignments``)."""

    def get_or_load(self, key: Hashable, load: Callable[[], Alignment]) -> Alignment: ...


class CorrectedTranscriptError(CorrectionError):
    """The lecture's transcript has trainer corrections; replacing it needs ``force`` (they are re-applied)."""

    def __init__(self, lecture_id: str, count: int) -> None:
        super().__init__("transcript_corrected", lecture=lecture_id, count=count)
        self.lecture_id = lecture_id
        self.count = count


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def apply_edit(
    factory: sessionmaker[Session],
    transcripts: Store,
    lecture_id: str,
    segment_index: int,
    editor: str,
    text: str | None = None,
    start: float | None = None,
    end: float | None = None,
) -> Transcript:
    """Correct one segment's text and/or timing, record the version, and return the new transcript.

    Raises ``CorrectionError`` (``lecture_not_found``, ``transcript_missing``, ``transcript_partial`` while a
    transcription is still writing partial results, or a rule of
    ``core.corrections.corrected_segment``) with nothing written.
    """
    with lecture_lock(transcripts, lecture_id):
        transcript = load_transcript(transcripts, lecture_id)
        if transcript is None:
            raise CorrectionError("transcript_missing", lecture=lecture_id)
        if transcript.settings.get("partial"):  # the transcriber would overwrite the edit with its next part
            raise CorrectionError("transcript_partial", lecture=lecture_id)
        old, new = corrected_segment(transcript, segment_index, text, start, end)
        updated = apply_correction(transcript, new)
        _commit_with_write(factory, transcripts, transcript, updated, _edit_row(lecture_id, editor, old, new))
    return updated


def _edit_row(lecture_id: str, editor: str, old, new) -> TranscriptEditRow:  # type: ignore[no-untyped-def]
    return TranscriptEditRow(
        lecture_id=lecture_id,
        segment_index=old.index,
        editor=editor,
        at=_utcnow(),
        before=SegmentState.of(old).to_dict(),
        after=SegmentState.of(new).to_dict(),
    )


def _commit_with_write(
    factory: sessionmaker[Session], transcripts: Store, previous: Transcript, updated: Transcript, *rows: object
) -> None:
    written = False
    try:
        with transaction(factory) as session:
            if session.get(LectureRow, updated.lecture_id) is None:
                raise CorrectionError("lecture_not_found", lecture=updated.lecture_id)
            session.add_all(rows)
            session.flush()  # constraint errors surface before the file is touched
            write_transcript(transcripts, updated)
            written = True
    except BaseException:
        if written:  # the commit failed after the write: put the previous version back
            write_transcript(transcripts, previous)
        raise


def edit_history(factory: sessionmaker[Session], lecture_id: str) -> list[TranscriptEdit]:
    """Every correction of the lecture, oldest first."""
    with factory() as session:
        rows = session.scalars(
            select(TranscriptEditRow)
            .where(TranscriptEditRow.lecture_id == lecture_id)
            .order_by(TranscriptEditRow.at, TranscriptEditRow.id)
        ).all()
        return [_edit_of(row) for row in rows]


def _edit_of(row: TranscriptEditRow) -> TranscriptEdit:
    return TranscriptEdit(
        lecture_id=row.lecture_id,
        segment_index=row.segment_index,
        editor=row.editor,
        at=row.at,
        before=SegmentState.from_dict(row.before),
        after=SegmentState.from_dict(row.after),
        id=row.id,
    )


def correction_count(factory: sessionmaker[Session], lecture_id: str) -> int:
    """How many corrections people made to the lecture's transcript (system corrections are not counted)."""
    with factory() as session:
        query = (
            select(func.count())
            .select_from(TranscriptEditRow)
            .where(TranscriptEditRow.lecture_id == lecture_id, TranscriptEditRow.editor != SYSTEM_EDITOR)
        )
        return int(session.scalar(query) or 0)


def check_may_replace(factory: sessionmaker[Session], transcripts: Store, lecture_id: str, force: bool) -> None:
    """Raise ``CorrectedTranscriptError`` when replacing the lecture's transcript needs ``force`` and lacks it.

    Call it before starting long work (a transcription job) so the question is asked up front.
    """
    if force or load_transcript(transcripts, lecture_id) is None:
        return
    count = correction_count(factory, lecture_id)
    if count:
        raise CorrectedTranscriptError(lecture_id, count)


def replace_transcript(
    factory: sessionmaker[Session],
    transcripts: Store,
    transcript: Transcript,
    force: bool = False,
    keep_previous_copy: bool = True,
) -> Transcript:
    """Store a new transcript of a lecture (re-transcription, caption import) and return what was written.

    A corrected transcript is replaced only with ``force``; corrections are re-applied to the new
    transcript either way, and the current file is kept as ``transcript.prev.json`` unless
    ``keep_previous_copy`` is False (for the second and later partial writes of one streaming run).
    """
    lecture_id = transcript.lecture_id
    with lecture_lock(transcripts, lecture_id):
        check_may_replace(factory, transcripts, lecture_id, force)
        final = reapply_corrections(transcript, trainer_edits(edit_history(factory, lecture_id)))
        if keep_previous_copy:
            keep_previous(transcripts, lecture_id)
        write_transcript(transcripts, final)
        stored = load_transcript(transcripts, lecture_id)  # as written: times rounded to the millisecond
    assert stored is not None
    return stored


def _alignable(
    factory: sessionmaker[Session], transcripts: Store, lecture_id: str
) -> tuple[Transcript, set[int]] | None:
    """The complete stored transcript and the indexes of its segments holding a trainer's correction (the
    alignment leaves those alone), or ``None`` while there is no transcript or it is still being written."""
    transcript = load_transcript(transcripts, lecture_id)
    if transcript is None or transcript.settings.get("partial"):
        return None
    return transcript, corrected_indexes(transcript, trainer_edits(edit_history(factory, lecture_id)))


def apply_document_alignment(
    factory: sessionmaker[Session],
    transcripts: Store,
    lecture_id: str,
    documents: list[str] | tuple[str, ...],
    options: AlignOptions = AlignOptions(),
) -> Alignment | None:
    """Correct the stored transcript from the lecture's ``documents`` as ``SYSTEM_EDITOR`` (see the module doc);
    ``None`` when there is no complete transcript or no document. Segments holding a trainer's correction are
    left alone."""
    if not documents:
        return None
    with lecture_lock(transcripts, lecture_id):
        found = _alignable(factory, transcripts, lecture_id)
        if found is None:
            return None
        transcript, frozen = found
        aligned = align_to_documents(transcript.segments, documents, options, frozen)
        changed = [(old, new) for old, new in zip(transcript.segments, aligned.segments) if new != old]
        if changed:
            updated = replace(transcript, segments=aligned.segments)
            rows = [_edit_row(lecture_id, SYSTEM_EDITOR, old, new) for old, new in changed]
            _commit_with_write(factory, transcripts, transcript, updated, *rows)
    return aligned


def document_suggestions(
    factory: sessionmaker[Session],
    transcripts: Store,
    lecture_id: str,
    documents: list[str] | tuple[str, ...],
    options: AlignOptions = AlignOptions(),
    memo: Memo | None = None,
) -> tuple[DocumentMatch, ...]:
    """The matches of the stored transcript with the lecture's ``documents`` whose words are not in place yet, in
    transcript order: those below the replacement threshold, those on a trainer's correction, and any the job did
    not apply (alignment turned off, a material attached since). Empty without a complete transcript or a
    document. Writes nothing. The alignment (up to seconds for long documents) is kept in ``memo``, if given, under
    the lecture and what it was computed from, so asking again for an unchanged transcript and documents is free."""
    found = _alignable(factory, transcripts, lecture_id) if documents else None
    if found is None:
        return ()
    transcript, frozen = found
    current = {s.index: " ".join(s.text.split()) for s in transcript.segments}
    inputs = (tuple(documents), tuple((s.index, s.text) for s in transcript.segments), frozenset(frozen), options)

    def align() -> Alignment:
        return align_to_documents(transcript.segments, documents, options, frozen)

    aligned = align() if memo is None else memo.get_or_load((lecture_id, hash(inputs)), align)
    pending = [m for m in aligned.matches if any(current.get(i) != " ".join(t.split()) for i, t in m.texts)]
    return tuple(sorted(pending, key=lambda m: (m.start, m.first_segment)))


def revert_edit(
    factory: sessionmaker[Session], transcripts: Store, lecture_id: str, edit_id: int, editor: str
) -> Transcript:
    """Put back the segment an edit changed (a system correction, or anyone's), recorded as ``editor``'s own
    correction. Raises ``CorrectionError`` (``edit_not_found``; ``edit_not_current`` when the segment has been
    changed since) with nothing written."""
    with lecture_lock(transcripts, lecture_id):
        edit = next((e for e in edit_history(factory, lecture_id) if e.id == edit_id), None)
        if edit is None:
            raise CorrectionError("edit_not_found", edit=edit_id)
        transcript = load_transcript(transcripts, lecture_id)
        segment = None if transcript is None else current_segment(transcript, edit.after)
        if segment is None:
            raise CorrectionError("edit_not_current", edit=edit_id)
        before = edit.before
        return apply_edit(
            factory, transcripts, lecture_id, segment.index, editor, before.text, before.start, before.end
        )
