"""Media serving: every playlist, segment, poster and download is authorized, then sent with Range support.

``GET /api/media/{lecture_id}/{path}`` checks the hub login (the protected router's dependency) and that the
caller may watch the lecture (``ctx.visibility``: the one rule and cache of every route), on every request —
a segment URL passed to someone outside the audience gets a 404. The routes sit under ``/api/`` so an unauthenticated request gets a 401, never a redirect to the
login page (which a player's XHR would follow and choke on).

Scaled out, nginx serves the same files and asks ``GET /api/media-auth/{lecture_id}/{path}`` first
(``auth_request``): 204 with ``X-Media-File: <sha256>/<path>`` when allowed, which nginx then sends from the
media folder itself (see docs/media.md). No signed URLs: the hub cookie or token already travels with each
request, and a per-request check keeps revocation immediate.

Downloading the single-file audio (``*.m4a``, for offline study) is a first contact with the lecture, like
opening the player: progress replayed later from offline is bounded by the time since (``core.progress.Pace``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException
from starlette.responses import FileResponse, Response

from diemcau.adapters.db.lecture_reads import media_of
from diemcau.adapters.db.progress import record_first_contact
from diemcau.adapters.media_store import LocalMediaStore
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.core.lecture import is_valid_lecture_id, media_content_type, safe_media_path
from diemcau.core.roles import Viewer
from diemcau.i18n import t

router = APIRouter(tags=["media"])
MEDIA_FILE_HEADER = "X-Media-File"
# Segments never change (the folder is content-addressed); playlists neither, but keep them short-lived so a
# revoked member's browser stops replaying them soon.
CACHE_SEGMENTS = "private, max-age=86400, immutable"
CACHE_PLAYLISTS = "private, max-age=60"


def authorize(ctx: ApiContext, viewer: Viewer, lecture_id: str, path: str) -> tuple[str, str]:
    """(sha256, path) of a media file the viewer may fetch; ``HTTPException(404)`` for anything else."""
    not_found = HTTPException(404, t("media.lecture_not_found"))
    if not is_valid_lecture_id(lecture_id) or safe_media_path(path) is None:
        raise not_found
    if ctx.visibility.lecture(viewer, lecture_id) is None:
        raise not_found
    found = media_of(ctx.factory, lecture_id)
    if found is None:
        raise not_found
    return found[2], path


def _note_download(ctx: ApiContext, viewer: Viewer, lecture_id: str, name: str) -> None:
    """The audio download for offline study is a first contact with the lecture (playlists and segments are
    the player's, whose page noted it already)."""
    if name.endswith(".m4a"):
        record_first_contact(ctx.factory, viewer.username, lecture_id, ctx.now())


def _file(ctx: ApiContext, sha256: str, path: str) -> Path:
    local = LocalMediaStore(ctx.stores.media).local_path(sha256, path)
    if local is None:
        raise HTTPException(404, t("media.lecture_not_found"))
    return local


@router.get(
    "/api/media/{lecture_id}/{path:path}",
    response_class=FileResponse,
    responses={206: {"description": "Partial content (Range)."}, 404: {"description": "Not visible."}},
)
def media_file(
    lecture_id: str, path: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> Response:
    """A lecture's media file: playlists, segments, poster, the m4a download. Honours ``Range``."""
    sha256, name = authorize(ctx, caller.viewer, lecture_id, path)
    local = _file(ctx, sha256, name)
    _note_download(ctx, caller.viewer, lecture_id, name)
    content_type = media_content_type(name) or "application/octet-stream"
    cache = CACHE_PLAYLISTS if name.endswith(".m3u8") else CACHE_SEGMENTS
    headers = {"Cache-Control": cache}
    if name.endswith(".m4a"):
        headers["Content-Disposition"] = f'attachment; filename="{lecture_id}.m4a"'
    return FileResponse(local, media_type=content_type, headers=headers)


@router.get(
    "/api/media-auth/{lecture_id}/{path:path}",
    status_code=204,
    responses={
        204: {"description": f"Allowed; {MEDIA_FILE_HEADER} names the file under the media folder."},
        403: {"description": "Not visible (or no such file)."},
    },
)
def media_auth(
    lecture_id: str, path: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> Response:
    """For nginx ``auth_request``: may the caller fetch this media file, and which file is it?

    Refusals are 403, not 404: nginx passes 401 and 403 on to the client but turns any other answer into a 500.
    """
    try:
        sha256, name = authorize(ctx, caller.viewer, lecture_id, path)
        _file(ctx, sha256, name)
    except HTTPException as refused:
        raise HTTPException(403, refused.detail) from None
    _note_download(ctx, caller.viewer, lecture_id, name)
    return Response(status_code=204, headers={MEDIA_FILE_HEADER: f"{sha256}/{name}"})
