"""Offline lessons: the service worker's route and what the pages need to offer *Tải về để học khi không có mạng*.

``GET /sw.js`` serves ``static/sw.js`` from the portal's own path, so its scope is the portal and everything under
it (the player, the media and caption routes). The portal and the player include ``offline_portal.html`` and
``offline_player.html``: a short JSON config and ``static/offline.js`` (deferred), which registers the worker
after the page's ``load`` event and stores, lists, syncs and removes lectures (docs/player.md, "Offline").

The route needs the hub login like every other route; the script itself holds nothing private.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, HTTPException
from jinja2 import Environment
from starlette.responses import Response

from diemcau.apps.api.pages.assets import asset_url, load_asset
from diemcau.apps.api.pages.quiz_pages import QUIZ_JS
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.i18n import t
from diemcau.settings import Settings

router = APIRouter(tags=["offline"])
SERVICE_WORKER = "sw.js"
OFFLINE_JS = "offline.js"
# The texts offline.js shows (the [offline] table of the catalogue); it carries none of its own.
TEXT_KEYS = (
    "save",
    "saving",
    "saved",
    "remove",
    "removed",
    "failed",
    "full",
    "unsupported",
    "heading",
    "open",
    "offline_now",
    "search_heading",
    "search_none",
    "material_skipped",
)


@dataclass(frozen=True)
class OfflineLinks:
    """What the offline blocks of the pages need: where the worker and the script are, and their texts."""

    settings: Settings
    prefix: str

    @property
    def worker(self) -> str:
        return f"{self.prefix}/{SERVICE_WORKER}"

    @property
    def script(self) -> str:
        return asset_url(self.settings, self.prefix, OFFLINE_JS)

    @property
    def text(self) -> dict[str, str]:
        return {key: t(f"offline.{key}") for key in TEXT_KEYS}

    @property
    def quiz_script(self) -> str:
        """``quiz.js``, the one sender of quiz attempts kept on the device, which ``offline.js`` loads on the portal
        and the player when the device keeps one (docs/quizzes.md, "Answered with no connection")."""
        return asset_url(self.settings, self.prefix, QUIZ_JS)

    @property
    def material_max_bytes(self) -> int:
        """The most bytes of materials stored with one lecture, together (``player.offline_material_max_bytes``)."""
        return self.settings.player.offline_material_max_bytes


def with_offline(pages: Environment, settings: Settings, prefix: str) -> Environment:
    """``pages`` with the global ``offline`` (an ``OfflineLinks``) that the offline blocks of the templates use."""
    pages.globals["offline"] = OfflineLinks(settings, prefix)
    return pages


@router.get("/sw.js", response_class=Response, responses={200: {"content": {"text/javascript": {}}}})
def service_worker(ctx: ApiContext = Depends(context_of)) -> Response:
    """The service worker (scope: the portal). Revalidated on every update check, so a new version takes over
    at the next visit; browsers check at most once a day on their own."""
    asset = load_asset(ctx.settings, SERVICE_WORKER)
    if asset is None:
        raise HTTPException(404)
    headers = {"Cache-Control": "no-cache", "ETag": f'"{asset.digest}"'}
    return Response(asset.body, media_type=asset.media_type, headers=headers)
