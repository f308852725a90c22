"""Lecture routes: members list the lectures of their courses; trainers publish from a URL or an upload.

Who sees which lecture is ``core.visibility`` (asked through ``ctx.visibility``): whoever may see its course,
members once it is ready; content managers also while it is processing or failed, with the job's stage and
progress. Anything else is a 404, the same as a lecture that does not exist.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse

from diemcau.adapters.db.lecture_reads import LectureRecord, load_lecture, load_lectures
from diemcau.adapters.db.lectures import PublishRequest
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.schemas.lectures import LectureIn, LectureOut, MediaOut, RenditionOut
from diemcau.core.lecture import LectureStatus
from diemcau.core.roles import Viewer, can_manage_content
from diemcau.core.visibility import may_watch
from diemcau.i18n import t
from diemcau.jobs.publish import Published, PublishError, publish
from diemcau.media.errors import MediaError
from diemcau.media.package import read_manifest

router = APIRouter(tags=["lectures"])
UPLOAD_FIELDS = ("course_id", "title", "speaker", "resolution", "transcribe")


def _manifest(ctx: ApiContext, sha256: str) -> dict | None:
    """The manifest, kept by the app ``perf.lecture_seconds`` (``ApiCaches``; a missing one is not kept)."""
    manifests = ctx.runtime.caches.manifests
    found = manifests.get(sha256)
    if found is None and (found := read_manifest(ctx.stores.media, sha256)) is not None:
        manifests.put(sha256, found)
    return found


def media_links(ctx: ApiContext, record: LectureRecord) -> MediaOut | None:
    """The lecture's media URLs (below the service prefix), once ready."""
    manifest = _manifest(ctx, record.sha256) if record.status == LectureStatus.READY else None
    if manifest is None:
        return None
    base = f"{ctx.prefix}/api/media/{record.id}/"
    renditions = [
        RenditionOut(
            name=r["name"],
            label=r["label"],
            url=base + r["playlist"],
            bandwidth=r["bandwidth"],
            average_bandwidth=r["average_bandwidth"],
            height=r["height"],
            codecs=r["codecs"],
            bytes_per_hour=r["average_bandwidth"] * 450,
        )  # 3600 s / 8 bits
        for r in manifest["renditions"]
    ]
    return MediaOut(
        master=base + manifest["master"],
        audio_playlist=base + manifest["audio_playlist"],
        opus_playlist=base + manifest["opus_playlist"] if manifest.get("opus_playlist") else None,
        audio_file=base + manifest["audio_file"],
        poster=base + manifest["poster"],
        has_video=manifest["has_video"],
        renditions=renditions,
    )


def lecture_view(ctx: ApiContext, viewer: Viewer, record: LectureRecord) -> LectureOut:
    """A lecture as ``viewer`` sees it (job details for content managers only)."""
    staff = can_manage_content(viewer)
    return LectureOut(
        id=record.id,
        course_id=record.course_id,
        title=record.title,
        speaker=record.speaker,
        resolution=record.resolution,
        status=record.status,
        status_label=t(f"media.status_{record.status}"),
        duration_seconds=record.duration_seconds,
        stage=record.stage if staff else "",
        progress=record.progress if staff else 0.0,
        error=record.error if staff else "",
        transcript=record.transcript,
        media=media_links(ctx, record),
    )


@router.get("/api/lectures", response_model=list[LectureOut])
def list_lectures(
    course: str | None = None, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> list[LectureOut]:
    """The lectures of the courses the caller may see (``?course=`` narrows to one)."""
    viewer = caller.viewer
    courses = ctx.visibility.courses(viewer)
    if course is not None:
        courses &= {course}
    found = load_lectures(ctx.factory, set(courses), pending=can_manage_content(viewer))
    audiences = {c.course_id: c.audience_paths for c in ctx.visibility.known_courses().values()}
    return [lecture_view(ctx, viewer, r) for r in found if may_watch(viewer, r.status, audiences.get(r.course_id, ()))]


def _lecture_record(ctx: ApiContext, viewer: Viewer, lecture_id: str) -> LectureRecord:
    """The lecture with its media and job, if ``viewer`` may see it (``ctx.visibility``); else 404."""
    ctx.visibility.require_lecture(viewer, lecture_id)
    record = load_lecture(ctx.factory, lecture_id, pending=can_manage_content(viewer))
    if record is None:
        raise HTTPException(404, t("media.lecture_not_found"))
    return record


@router.get("/api/lectures/{lecture_id}", response_model=LectureOut, responses={404: {"description": "Not visible."}})
def read_lecture(
    lecture_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> LectureOut:
    """One lecture with its status, job progress and media links; 404 alike for missing and not visible."""
    return lecture_view(ctx, caller.viewer, _lecture_record(ctx, caller.viewer, lecture_id))


def _published(ctx: ApiContext, caller: Caller, published: Published) -> JSONResponse:
    record = load_lecture(ctx.factory, published.lecture_id, pending=True)
    assert record is not None
    body = lecture_view(ctx, caller.viewer, record).model_dump(mode="json")
    return JSONResponse(body, status_code=200 if published.existing else 202)


def _publish_or_422(ctx: ApiContext, request: PublishRequest) -> Published:
    try:
        return publish(ctx.settings, ctx.factory, ctx.stores.media, request)
    except PublishError as error:
        raise HTTPException(422, t(f"media.{error.code}", **error.params)) from None
    except MediaError as error:
        raise HTTPException(422, error.message()) from None


@router.post(
    "/api/lectures",
    response_model=LectureOut,
    status_code=202,
    responses={200: {"description": "Already published from this URL."}, 403: {}, 422: {}},
)
def publish_from_url(
    body: LectureIn, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> JSONResponse:
    """Publish from a URL (trainers, admins): queued at once; follow ``GET /api/lectures/{id}``."""
    if not can_manage_content(caller.viewer):
        raise HTTPException(403, t("api.forbidden"))
    request = PublishRequest(
        body.url, body.course_id, body.title, body.speaker, body.resolution, body.transcribe, caller.viewer.username
    )
    return _published(ctx, caller, _publish_or_422(ctx, request))


_UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["course_id", "title", "file"],
                    "properties": {
                        **{name: {"type": "string"} for name in UPLOAD_FIELDS},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
}


@router.post(
    "/api/lectures/upload",
    response_model=LectureOut,
    status_code=202,
    openapi_extra=_UPLOAD_SCHEMA,
    responses={200: {"description": "Already published from this file."}, 403: {}, 422: {}},
)
async def publish_upload(
    request: Request, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> JSONResponse:
    """Publish an uploaded file (multipart: course_id, title, file, and optionally speaker, resolution,
    transcribe). The file is validated before the answer: a bad one is refused with the reason (422)."""
    if not can_manage_content(caller.viewer):
        raise HTTPException(403, t("api.forbidden"))
    async with request.form(max_part_size=1 << 20) as form:
        upload = form.get("file")
        fields = {name: str(form.get(name) or "") for name in UPLOAD_FIELDS}
        if not isinstance(upload, UploadFile) or not fields["course_id"]:
            raise HTTPException(422, t("media.source_required"))
        saved = await run_in_threadpool(_save_upload, ctx, upload)
    try:
        publish_request = PublishRequest(
            str(saved),
            fields["course_id"],
            fields["title"],
            fields["speaker"],
            fields["resolution"],
            fields["transcribe"].lower() not in ("0", "false", "no"),
            caller.viewer.username,
            f"upload:{upload.filename or ''}",
        )
        published = await run_in_threadpool(_publish_or_422, ctx, publish_request)
    finally:
        saved.unlink(missing_ok=True)  # the run copied what it needs into its work folder
    return _published(ctx, caller, published)


def _save_upload(ctx: ApiContext, upload: UploadFile) -> Path:
    folder = ctx.settings.jobs_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(upload.filename or "").suffix.lower()[:8]
    target = folder / f"{uuid.uuid4().hex}{suffix if suffix.isascii() else ''}"
    with target.open("wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)
    return target
