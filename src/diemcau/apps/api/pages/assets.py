"""``GET /static/{name}``: the player's own script and hls.js, cached for a year and sent gzipped.

hls.js is not in the repository: ``scripts/ensure_node.sh`` installs the version pinned in ``package.json``
into ``node_modules/`` (``npm ci``), and this route serves ``hls.js/dist/hls.light.min.js`` from there (or the
file ``player.hls_js`` names). When it is missing the route answers 503 with the command that installs it,
and the player still plays *Chỉ nghe*, which needs no library (see ``player.py``).

Each file is read and gzipped once per change of its modification time, not per request: on a 256 kbps
link hls.js is 120 KB gzipped against 389 KB plain. Pages link assets as ``/static/<name>?v=<hash>``, so a
new version gets a new URL and the old one can be cached as immutable.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException
from starlette.requests import Request
from starlette.responses import Response

from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["assets"])

STATIC_DIR = Path(__file__).parent.parent / "static"
SOURCE_TREE = Path(__file__).resolve().parents[5]
NPM_HLS_JS = Path("node_modules") / "hls.js" / "dist" / "hls.light.min.js"
HLS_JS = "hls.light.min.js"
CACHE_FOREVER = "private, max-age=31536000, immutable"
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


class AssetMissing(LookupError):
    """A known asset whose file is not installed; the message says how to install it."""


@dataclass(frozen=True)
class Asset:
    """An asset read into memory: its bytes, the same gzipped, and a short content hash."""

    body: bytes
    gzipped: bytes
    digest: str
    media_type: str


def hls_js_path(settings: Settings) -> Path:
    """Where hls.js is read from: ``player.hls_js`` when set, else the npm install in the source tree."""
    return Path(settings.player.hls_js) if settings.player.hls_js else SOURCE_TREE / NPM_HLS_JS


def asset_path(settings: Settings, name: str) -> Path | None:
    """The file behind an asset name, or ``None`` for names that are not assets (no paths, no dotfiles)."""
    if name == HLS_JS:
        return hls_js_path(settings)
    if "/" in name or "\\" in name or name.startswith(".") or Path(name).suffix not in MEDIA_TYPES:
        return None
    path = STATIC_DIR / name
    return path if path.is_file() else None


# Not per-app state: a pure function of its key, the file's path and modification time (a changed file is another
# key), so every app in the process may share it; bounded (tests/test_process_state.py allows it by name).
@lru_cache(maxsize=16)
def _read(path: Path, mtime_ns: int) -> Asset:
    body = path.read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:12]
    return Asset(body, gzip.compress(body, compresslevel=9, mtime=0), digest, MEDIA_TYPES[path.suffix])


def load_asset(settings: Settings, name: str) -> Asset | None:
    """The asset ``name`` (read once per file version), ``None`` if there is no such asset.

    Raises ``AssetMissing`` when hls.js is not installed.
    """
    path = asset_path(settings, name)
    if path is None:
        return None
    try:
        return _read(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise AssetMissing(
            f"{path} is missing: run `bash scripts/ensure_node.sh` (npm ci installs hls.js from package.json), "
            "or set player.hls_js to an hls.light.min.js"
        ) from None


def asset_url(settings: Settings, prefix: str, name: str) -> str:
    """The versioned URL of an asset (``?v=`` its content hash; no version when the file is missing)."""
    try:
        asset = load_asset(settings, name)
    except AssetMissing:
        asset = None
    version = f"?v={asset.digest}" if asset else ""
    return f"{prefix}/static/{name}{version}"


def _accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


@router.get(
    "/static/{name}",
    response_class=Response,
    responses={200: {"content": {"text/javascript": {}}}, 404: {}, 503: {"description": "hls.js not installed."}},
)
def static_asset(name: str, request: Request, ctx: ApiContext = Depends(context_of)) -> Response:
    """A script of the member pages (the player, hls.js): immutable, gzipped when the browser accepts it."""
    try:
        asset = load_asset(ctx.settings, name)
    except AssetMissing as missing:
        log.error("%s", missing)
        raise HTTPException(503, str(missing)) from None
    if asset is None:
        raise HTTPException(404)
    etag = f'"{asset.digest}"'
    headers = {"Cache-Control": CACHE_FOREVER, "ETag": etag, "Vary": "Accept-Encoding"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if _accepts_gzip(request):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
