"""Transcript routes: members read a lecture's transcript and captions; trainers correct segments.

Who may read: whoever may watch the lecture (``core.visibility``, asked through ``ctx.visibility``: its course's
audience, the secretaries and committees above it, trainers, admins; members only once the lecture is ready).
Who may correct, read the history, revert an edit, read the suggestions from the lecture's documents, and see or
start the lecture's transcription (``/transcription``: offered again once a material changed since): trainers
and admins. A lecture the caller may not see answers 404, like a
missing one. The player's ``<track>`` gets WebVTT rendered from ``transcript.json`` (the store's source of
truth), with an ETag so a weak link downloads it once.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from diemcau.adapters.db.lecture_reads import media_of
from diemcau.adapters.db.transcription_jobs import Transcription, transcription_of
from diemcau.adapters.transcript_edits import (
    CorrectedTranscriptError,
    apply_edit,
    check_may_replace,
    correction_count,
    document_suggestions,
    edit_history,
    revert_edit,
)
from diemcau.adapters.transcript_import import error_message
from diemcau.adapters.transcript_store import load_transcript
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.schemas.input_rules import Count, MediaSeconds, RowId, UtcDateTime
from diemcau.core.captions import render_vtt
from diemcau.core.corrections import SYSTEM_EDITOR, CorrectionError, TranscriptEdit
from diemcau.core.roles import Viewer, can_manage_content
from diemcau.asr.errors import TranscriptionError
from diemcau.core.transcript import Segment, Transcript
from diemcau.i18n import t
from diemcau.jobs.transcribe_task import queue_transcription
from diemcau.materials.documents import document_texts, documents_version
from diemcau.search.content import content_changed

router = APIRouter(tags=["transcripts"])
_NOT_FOUND = {404: {"description": "No such lecture or transcript, or not visible."}}


class WordOut(BaseModel):
    model_config = ConfigDict(frozen=True)
    start: float
    end: float
    text: str
    probability: float


class SegmentOut(BaseModel):
    model_config = ConfigDict(frozen=True)
    index: int
    start: float
    end: float
    text: str
    words: list[WordOut] | None = None


class TranscriptOut(BaseModel):
    model_config = ConfigDict(frozen=True)
    lecture_id: str
    language: str
    source: str
    model: str
    duration: float
    segments: list[SegmentOut]


class SegmentEditIn(BaseModel):
    """A correction: any of the new text, start and end (seconds)."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, max_length=4000)
    start: MediaSeconds | None = None
    end: MediaSeconds | None = None


class SegmentStateOut(BaseModel):
    model_config = ConfigDict(frozen=True)
    start: float
    end: float
    text: str


class EditOut(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int
    segment_index: int
    editor: str
    system: bool = Field(description="Made by the system from the lecture's documents (issue 18), not by a person.")
    at: UtcDateTime
    before: SegmentStateOut
    after: SegmentStateOut
    changed: list[str]


class SegmentTextOut(BaseModel):
    model_config = ConfigDict(frozen=True)
    index: int
    text: str


class SuggestionOut(BaseModel):
    """A stretch of the transcript close to a sentence of the lecture's documents, not replaced: accepting it is
    one ordinary correction (``PATCH .../segments/{index}``) per entry of ``segments``."""

    model_config = ConfigDict(frozen=True)
    sentence: str = Field(description="The document's sentence.")
    heard: str = Field(description="The transcript's words it matches.")
    score: float = Field(description="Similarity of the folded texts, 0-100.")
    start: float
    end: float
    segments: list[SegmentTextOut] = Field(description="Each covered segment's whole text with the sentence in place.")


_MISSING = frozenset({"segment_not_found", "edit_not_found", "transcript_missing", "lecture_not_found"})
_CONFLICT = frozenset({"transcript_partial", "edit_not_current"})  # still being written; changed since


def _refused(error: CorrectionError) -> HTTPException:
    """A refused correction or revert with its Vietnamese reason: 404 missing, 409 conflicting, 422 otherwise."""
    status = 404 if error.message_key in _MISSING else 409 if error.message_key in _CONFLICT else 422
    return HTTPException(status, error_message(error))


class TranscriptionIn(BaseModel):
    """Transcribe again; ``force`` confirms replacing a transcript that trainers corrected (their corrections are
    re-applied to the new one)."""

    model_config = ConfigDict(extra="forbid")
    force: bool = False


class TranscriptionOut(BaseModel):
    model_config = ConfigDict(frozen=True)
    status: str = Field(description="none (never transcribed here), queued, running, done or failed")
    stage: str
    progress: float
    error: str = Field(description="Why the last run failed, in Vietnamese.")
    transcribed_at: UtcDateTime | None = Field(
        description="When the transcription of the current transcript was queued."
    )
    materials_changed_at: UtcDateTime | None = Field(
        description="The latest upload of a material with text after that: transcribing again would use it."
    )
    corrections: int = Field(description="Trainers' corrections, re-applied to a new transcript.")


def _utc(at: dt.datetime | None) -> dt.datetime | None:
    return None if at is None else at.replace(tzinfo=dt.UTC)


def _transcription_out(ctx: ApiContext, lecture_id: str, found: Transcription) -> TranscriptionOut:
    return TranscriptionOut(
        status=found.status,
        stage=found.stage,
        progress=found.progress,
        error=found.error,
        transcribed_at=_utc(found.transcribed_at),
        materials_changed_at=_utc(found.materials_changed_at),
        corrections=correction_count(ctx.factory, lecture_id),
    )


def _staff_only(caller: Caller) -> None:
    if not can_manage_content(caller.viewer):
        raise HTTPException(403, t("api.forbidden"))


def _visible_lecture(ctx: ApiContext, viewer: Viewer, lecture_id: str) -> None:
    if ctx.visibility.lecture(viewer, lecture_id) is None:
        raise HTTPException(404, t("transcript.lecture_not_found", lecture=lecture_id))


def _visible_transcript(ctx: ApiContext, viewer: Viewer, lecture_id: str) -> Transcript:
    _visible_lecture(ctx, viewer, lecture_id)
    transcript = load_transcript(ctx.stores.transcripts, lecture_id)
    if transcript is None:
        raise HTTPException(404, t("transcript.transcript_missing", lecture=lecture_id))
    return transcript


def _segment_out(segment: Segment, with_words: bool) -> SegmentOut:
    words = [WordOut(**vars(w)) for w in segment.words] if with_words else None
    return SegmentOut(index=segment.index, start=segment.start, end=segment.end, text=segment.text, words=words)


@router.get("/api/lectures/{lecture_id}/transcript", response_model=TranscriptOut, responses=_NOT_FOUND)
def read_transcript(
    lecture_id: str,
    words: bool = False,
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> TranscriptOut:
    """The lecture's transcript as segments; ``?words=true`` adds word times (heavier, for highlighting)."""
    transcript = _visible_transcript(ctx, caller.viewer, lecture_id)
    return TranscriptOut(
        lecture_id=transcript.lecture_id,
        language=transcript.language,
        source=transcript.source,
        model=transcript.model,
        duration=transcript.duration,
        segments=[_segment_out(s, words) for s in transcript.segments],
    )


@router.get(
    "/api/lectures/{lecture_id}/captions.vtt",
    response_class=Response,
    responses={200: {"content": {"text/vtt": {}}}, 304: {"description": "Unchanged."}, **_NOT_FOUND},
)
def read_captions(
    lecture_id: str, request: Request, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> Response:
    """WebVTT captions for the player's ``<track>``."""
    body = render_vtt(_visible_transcript(ctx, caller.viewer, lecture_id)).encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/vtt; charset=utf-8", headers=headers)


@router.patch(
    "/api/lectures/{lecture_id}/transcript/segments/{index}",
    response_model=SegmentOut,
    responses={403: {}, 409: {"description": "Still being transcribed."}, 422: {}, **_NOT_FOUND},
)
def correct_segment(
    lecture_id: str,
    index: Count,
    body: SegmentEditIn,
    request: Request,
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> SegmentOut:
    """Correct a segment's text and/or timing (trainers, admins); the edit is kept as a version."""
    _staff_only(caller)
    _visible_transcript(ctx, caller.viewer, lecture_id)
    try:
        updated = apply_edit(
            ctx.factory,
            ctx.stores.transcripts,
            lecture_id,
            index,
            caller.viewer.username,
            text=body.text,
            start=body.start,
            end=body.end,
        )
    except CorrectionError as error:
        raise _refused(error) from None
    # searchable as saved
    content_changed(ctx.settings, ctx.factory, ctx.stores, lecture_id, ctx.runtime.search.index())
    return _segment_out(next(s for s in updated.segments if s.index == index), with_words=True)


@router.get(
    "/api/lectures/{lecture_id}/transcript/history", response_model=list[EditOut], responses={403: {}, **_NOT_FOUND}
)
def transcript_history(
    lecture_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> list[EditOut]:
    """Every correction of the lecture's transcript, oldest first (trainers, admins)."""
    _staff_only(caller)
    _visible_lecture(ctx, caller.viewer, lecture_id)
    return [_edit_out(e) for e in edit_history(ctx.factory, lecture_id)]


def _edit_out(edit: TranscriptEdit) -> EditOut:
    return EditOut(
        id=edit.id,
        segment_index=edit.segment_index,
        editor=edit.editor,
        system=edit.editor == SYSTEM_EDITOR,
        at=edit.at.replace(tzinfo=dt.UTC),
        before=SegmentStateOut(**edit.before.to_dict()),
        after=SegmentStateOut(**edit.after.to_dict()),
        changed=list(edit.changed),
    )


@router.post(
    "/api/lectures/{lecture_id}/transcript/history/{edit_id}/revert",
    response_model=EditOut,
    responses={403: {}, 409: {"description": "The segment was changed since."}, **_NOT_FOUND},
)
def revert_correction(
    lecture_id: str,
    edit_id: RowId,
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> EditOut:
    """Undo one correction of the lecture (a system correction from its documents, or anyone's) while it is still
    in place: the segment is put back as before it, recorded as the caller's own correction, which this answers
    with (trainers, admins; ``transcript_edits.revert_edit``)."""
    _staff_only(caller)
    _visible_transcript(ctx, caller.viewer, lecture_id)
    try:
        revert_edit(ctx.factory, ctx.stores.transcripts, lecture_id, edit_id, caller.viewer.username)
    except CorrectionError as error:
        raise _refused(error) from None
    content_changed(ctx.settings, ctx.factory, ctx.stores, lecture_id, ctx.runtime.search.index())
    return _edit_out(edit_history(ctx.factory, lecture_id)[-1])


@router.get(
    "/api/lectures/{lecture_id}/transcript/suggestions",
    response_model=list[SuggestionOut],
    responses={403: {}, **_NOT_FOUND},
)
def transcript_suggestions(
    lecture_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> list[SuggestionOut]:
    """The document's words for the stretches of the current transcript that are close to a sentence of the
    lecture's materials but not replaced (``transcript_edits.document_suggestions``), in transcript order
    (trainers, admins). Empty while the transcript is still being written or the lecture has no material text."""
    _staff_only(caller)
    _visible_transcript(ctx, caller.viewer, lecture_id)
    documents = ctx.runtime.caches.documents.get_or_load(  # the files are read (in a bounded subprocess) once
        (lecture_id, documents_version(ctx.factory, lecture_id)),
        lambda: document_texts(ctx.settings, ctx.factory, ctx.stores.materials, lecture_id),
    )
    return [
        SuggestionOut(
            sentence=m.sentence,
            heard=m.heard,
            score=m.score,
            start=m.start,
            end=m.end,
            segments=[SegmentTextOut(index=i, text=text) for i, text in m.texts],
        )
        for m in document_suggestions(
            ctx.factory, ctx.stores.transcripts, lecture_id, documents, memo=ctx.runtime.caches.alignments
        )
    ]


@router.get("/api/lectures/{lecture_id}/transcription", response_model=TranscriptionOut, responses={403: {}, 404: {}})
def read_transcription(
    lecture_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> TranscriptionOut:
    """Where the lecture's transcription stands, and whether a material with text came after it (trainers,
    admins): the studio offers to transcribe again then."""
    _staff_only(caller)
    _visible_lecture(ctx, caller.viewer, lecture_id)
    return _transcription_out(ctx, lecture_id, transcription_of(ctx.factory, lecture_id))


@router.post(
    "/api/lectures/{lecture_id}/transcription",
    response_model=TranscriptionOut,
    status_code=202,
    responses={403: {}, 404: {}, 409: {"description": "Busy, no audio yet, or corrections to confirm (force)."}},
)
def transcribe_again(
    lecture_id: str,
    body: TranscriptionIn,
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> TranscriptionOut:
    """Queue the lecture's transcription again (trainers, admins), with its materials as they are now. Refused
    (409) while one is queued or running, before the lecture has audio, and — unless ``force`` — when trainers
    corrected the transcript (the Vietnamese reason says their corrections are kept and re-applied)."""
    _staff_only(caller)
    _visible_lecture(ctx, caller.viewer, lecture_id)
    if transcription_of(ctx.factory, lecture_id).busy:
        raise HTTPException(409, t("transcript.transcription_busy", lecture=lecture_id))
    if media_of(ctx.factory, lecture_id) is None:
        raise HTTPException(409, TranscriptionError("no_audio", lecture=lecture_id).message())
    try:
        check_may_replace(ctx.factory, ctx.stores.transcripts, lecture_id, body.force)
    except CorrectedTranscriptError as error:
        raise HTTPException(409, error_message(error)) from None
    queue_transcription(ctx.settings, ctx.factory, lecture_id, force=body.force)
    return _transcription_out(ctx, lecture_id, transcription_of(ctx.factory, lecture_id))
