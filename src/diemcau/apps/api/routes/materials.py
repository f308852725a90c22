"""Material routes: trainers attach the resolution text and slides (PDF, DOCX, PPTX) to a lecture; whoever may
see the lecture lists and downloads them.

* ``POST   /api/lectures/{id}/materials`` — multipart ``file`` (``?replace=true`` replaces a material of the same
  name), content managers only (trainers, admins: ``core.roles.can_manage_content``, the rule every lecture
  write follows). Refusals carry the Vietnamese reason: 413 too large, 409 name taken, 422 unusable file.
* ``GET    /api/lectures/{id}/materials`` — the list, for anyone who may see the lecture.
* ``GET    /api/lectures/{id}/materials/{name}`` — the file, as an attachment named as uploaded, with ``Range``
  support; ``?inline=true`` shows a PDF in the browser instead (the player opens search hits at their page),
  always under ``Content-Security-Policy: sandbox`` (see docs/security/headers.md).
* ``DELETE /api/lectures/{id}/materials/{name}`` — content managers; the file, its row and its search passages.

A lecture the caller may not see is a 404, the same as one that does not exist (as for the lecture routes).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from diemcau.adapters.db.materials import READY, MaterialRecord, find_material, list_materials
from diemcau.adapters.material_files import MaterialFiles
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.core.material import CONTENT_TYPES, KIND_LABELS, MaterialKind, mb_label, normal_name, size_label
from diemcau.core.roles import Viewer, can_manage_content
from diemcau.i18n import t
from diemcau.jobs.material_task import enqueue_reading
from diemcau.materials.attach import NO_TEXT, AttachRequest, Attached, attach_material, notice_key, remove_material
from diemcau.materials.errors import MaterialError

router = APIRouter(tags=["materials"])
FORM_SLACK_BYTES = 64 * 1024  # multipart boundaries and headers around the file
# A material opened in the browser is a document of its own, with an opaque origin: whatever a PDF carries cannot
# reach the member's cookies or the API. Only ``sandbox``: a ``default-src 'none'`` would also block the styles of
# the browser's own PDF viewer. (The service's policy, headers.py, leaves a response's own CSP as it is.)
MATERIAL_CSP = "sandbox"


class MaterialOut(BaseModel):
    """One material of a lecture, as members see it."""

    model_config = ConfigDict(frozen=True)
    name: str = Field(description="The file name it downloads as; unique within the lecture.")
    kind: str = Field(description="'pdf', 'docx' or 'pptx', from the file's content.")
    kind_label: str
    size: int = Field(description="Bytes.")
    size_label: str = Field(description="The size as members read it ('1,2 MB').")
    pages: int = Field(description="Pages (PDF, DOCX as last laid out by Word) or slides (PPTX).")
    searchable: bool = Field(
        description="False for a scan without a text layer, a material still being read or "
        "one that could not be read: downloadable, not searchable."
    )
    state: str = Field(
        description="'processing' (its text is being read), 'ready', 'too_big' (its reading passed "
        "the memory or time bound) or the code of why it could not be read ('encrypted_pdf', …)."
    )
    note: str = Field(description="A Vietnamese sentence on the state for the trainer ('' when ready).")
    sha256: str
    uploaded_by: str
    uploaded_at: str | None
    url: str = Field(description="The download.")


class MaterialAttachedOut(MaterialOut):
    """The answer to an upload: the material, and what became of it in search."""

    replaced: bool
    search: str = Field(
        description="'processing': the text is read by a background job, then the material's "
        "state says what became of it."
    )
    notice: str = Field(description="A Vietnamese sentence for the trainer.")


def download_url(prefix: str, lecture_id: str, name: str) -> str:
    """The download route of a material (the name percent-encoded, as one path segment)."""
    return f"{prefix}/api/lectures/{quote(lecture_id, safe='')}/materials/{quote(name, safe='')}"


def material_out(prefix: str, record: MaterialRecord) -> MaterialOut:
    """A stored material as the API shows it."""
    return MaterialOut(
        name=record.name,
        kind=record.kind,
        kind_label=KIND_LABELS[MaterialKind(record.kind)],
        size=record.size,
        size_label=size_label(record.size),
        pages=record.pages,
        searchable=record.has_text,
        sha256=record.sha256,
        state=record.state,
        note=_note(record),
        uploaded_by=record.uploaded_by,
        uploaded_at=record.uploaded_at.isoformat() if record.uploaded_at else None,
        url=download_url(prefix, record.lecture_id, record.name),
    )


def _note(record: MaterialRecord) -> str:
    """What the trainer should know about a material's state ('' when it is searchable)."""
    key = notice_key(NO_TEXT if record.state == READY and not record.has_text else record.state)
    return t(key) if key else ""


def lecture_materials(ctx: ApiContext, lecture_id: str) -> list[MaterialOut]:
    """The materials of a lecture the caller may already see (the player lists them)."""
    return [material_out(ctx.prefix, record) for record in list_materials(ctx.factory, lecture_id)]


def _visible(ctx: ApiContext, viewer: Viewer, lecture_id: str) -> None:
    ctx.visibility.require_lecture(viewer, lecture_id)


def _manageable(ctx: ApiContext, viewer: Viewer, lecture_id: str) -> None:
    if not can_manage_content(viewer):
        raise HTTPException(403, t("api.forbidden"))
    _visible(ctx, viewer, lecture_id)


def _refused(error: MaterialError) -> HTTPException:
    return HTTPException(error.http_status, error.message())


_UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "/api/lectures/{lecture_id}/materials",
    response_model=MaterialAttachedOut,
    status_code=201,
    openapi_extra=_UPLOAD_SCHEMA,
    responses={403: {}, 404: {}, 409: {}, 413: {}, 422: {}},
)
async def upload_material(
    lecture_id: str,
    request: Request,
    replace: bool = Query(False, description="Replace the material of the same name (otherwise a 409)."),
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> JSONResponse:
    """Attach a PDF, DOCX or PPTX (multipart ``file``) to a lecture: stored and answered at once, its text read by
    a background job (state ``processing``, then ``ready`` and searchable, or why not)."""
    await run_in_threadpool(_manageable, ctx, caller.viewer, lecture_id)
    limit = ctx.settings.materials.max_bytes
    if int(request.headers.get("content-length") or 0) > limit + FORM_SLACK_BYTES:  # refuse before reading it all
        raise _refused(MaterialError("too_large", max_mb=mb_label(limit)))
    async with request.form(max_part_size=1 << 20) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(422, t("materials.file_required"))
        attach = AttachRequest(lecture_id, upload.filename or "", caller.viewer.username, replace)
        try:
            attached = await run_in_threadpool(
                attach_material, ctx.settings, ctx.factory, ctx.stores.materials, attach, upload.file
            )
        except MaterialError as error:
            raise _refused(error) from None
    await run_in_threadpool(enqueue_reading, ctx.settings, attached.record)
    return JSONResponse(_attached_out(ctx, attached).model_dump(mode="json"), status_code=201)


def _attached_out(ctx: ApiContext, attached: Attached) -> MaterialAttachedOut:
    key = notice_key(attached.search)
    notice = t(key) if key else t("materials.attached", name=attached.record.name)
    base = material_out(ctx.prefix, attached.record).model_dump()
    return MaterialAttachedOut(**base, replaced=attached.replaced, search=attached.search, notice=notice)


@router.get(
    "/api/lectures/{lecture_id}/materials",
    response_model=list[MaterialOut],
    responses={404: {"description": "Not visible."}},
)
def read_materials(
    lecture_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> list[MaterialOut]:
    """The materials of a lecture, by name, for anyone who may see the lecture."""
    _visible(ctx, caller.viewer, lecture_id)
    return lecture_materials(ctx, lecture_id)


@router.get(
    "/api/lectures/{lecture_id}/materials/{material_name}",
    response_class=FileResponse,
    responses={206: {"description": "Partial content (Range)."}, 404: {"description": "Not visible, or no such file."}},
)
def download_material(
    lecture_id: str,
    material_name: str,
    inline: bool = Query(False, description="Show a PDF in the browser instead of downloading it."),
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> Response:
    """Download a material under its own name (``Range`` honoured); ``?inline=true`` opens a PDF in place."""
    _visible(ctx, caller.viewer, lecture_id)
    name = normal_name(material_name)
    record = find_material(ctx.factory, lecture_id, name)
    files = MaterialFiles(ctx.stores.materials)
    path = None if record is None else files.local_path(lecture_id, record.stored_name)
    if record is None or path is None:
        raise HTTPException(404, t("materials.not_found", name=name))
    kind = MaterialKind(record.kind)
    return FileResponse(
        path,
        media_type=CONTENT_TYPES[kind],
        filename=record.name,
        content_disposition_type="inline" if inline and kind == MaterialKind.PDF else "attachment",
        headers={"Cache-Control": "private, max-age=300", "Content-Security-Policy": MATERIAL_CSP},
    )


@router.delete("/api/lectures/{lecture_id}/materials/{material_name}", status_code=204, responses={403: {}, 404: {}})
async def delete_material(
    lecture_id: str, material_name: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> Response:
    """Remove a material: its file, its row and its search passages (content managers)."""
    await run_in_threadpool(_manageable, ctx, caller.viewer, lecture_id)
    try:
        index, name = ctx.runtime.search.index(), normal_name(material_name)
        await run_in_threadpool(remove_material, ctx.factory, ctx.stores.materials, index, lecture_id, name)
    except MaterialError as error:
        raise _refused(error) from None
    return Response(status_code=204)
