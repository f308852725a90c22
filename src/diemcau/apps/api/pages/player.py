"""``GET /lectures/{lecture_id}``: the lecture player of the member portal (HTML + a small vanilla script).

The page is server-rendered like the portal: title, the ``<video>`` element with the captions ``<track>``,
the rendition and speed choices, the *Tải về* link and the whole transcript as text (so it shows at once and
searches with the browser's own find). ``static/player.js``, inlined, then attaches the stream, follows the
transcript, resumes where the member stopped and reports progress (see that file).

Renditions: *Tự động* (the master playlist, adaptive), each video rung, and *Chỉ nghe*, which loads the
audio-only media playlist as its own source (Opus where the browser plays it, else AAC) — hls.js drops
audio-only variants from a master that also has video, and a single-file m4a is no substitute on a weak link (its index alone is ~600 KB per hour, all read
before the first sound). *Chỉ nghe* is the default where the browser reports a slow or data-saving link.
``?t=SECONDS`` (a search hit's deep link) starts there; otherwise the player resumes where the member stopped,
unless they heard the lecture to the end (``core.progress.heard_to_the_end``): then it starts over and says so.
The resume position and coverage are read from the progress store while rendering (the same data as ``GET
/api/lectures/{id}/progress``), which saves the player a round trip before it can start — 0.3–0.6 s on a
300 ms link. Progress events go back through ``POST /api/lectures/{id}/progress``.

Visibility is the lecture API's: a lecture the caller may not see is a 404 page, like a missing one.
Opening the page is the member's first contact with the lecture (``record_first_contact``), from which their
coverage may grow at most at the menu's fastest speed (``core.progress.PLAYBACK_SPEEDS``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from diemcau.adapters.db import records
from diemcau.adapters.db.lecture_reads import load_lecture
from diemcau.adapters.db.progress import load_progress, record_first_contact
from diemcau.adapters.transcript_store import load_transcript
from diemcau.apps.api.pages.assets import HLS_JS, asset_url, load_asset
from diemcau.apps.api.pages.environment import render_message
from diemcau.apps.api.pages.links import logout_href
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.routes.lectures import lecture_view
from diemcau.apps.api.routes.materials import MaterialOut, lecture_materials
from diemcau.apps.api.schemas.lectures import LectureOut, MediaOut
from diemcau.core.lecture import LectureStatus
from diemcau.core.material import normal_name
from diemcau.core.progress import PLAYBACK_SPEEDS, Progress, heard_to_the_end
from diemcau.core.roles import can_manage_content
from diemcau.core.transcript import Segment
from diemcau.i18n import load_catalogue, t
from diemcau.settings import Settings

router = APIRouter(tags=["player"])
SPEEDS = PLAYBACK_SPEEDS  # the menu; its fastest speed bounds coverage, so it lives with that rule
AUDIO = "audio"
PLAYER_JS = "player.js"
AUTO = "auto"
# Messages the script shows; it gets them in the page, so it carries no text of its own.
SCRIPT_TEXTS = (
    "resume",
    "heard_to_the_end",
    "start_at",
    "from_start",
    "press_play",
    "coverage",
    "offline",
    "retrying",
    "unsupported",
    "library_missing",
)


def parse_start(value: str, duration: float | None) -> float | None:
    """The ``?t=`` start time in seconds, or ``None`` for anything that is not a usable time.

    Any string may arrive in a link: junk, negatives, NaN and infinities are ignored rather than refused, and a
    time past the end is kept within the lecture.
    """
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, duration) if duration else seconds


@dataclass(frozen=True)
class SourceChoice:
    """One entry of the rendition menu: what the member sees and the HLS playlist it loads; *Chỉ nghe* also
    names its Opus playlist (``opus``, empty for a lecture published before it), which the script loads instead
    where the browser says it plays Opus."""

    key: str
    label: str
    url: str
    opus: str = ""


def source_choices(media: MediaOut) -> tuple[SourceChoice, ...]:
    """The rendition menu: *Tự động* and each video rung (lowest first) when there is video, then *Chỉ nghe*."""
    audio = SourceChoice(AUDIO, t("player.audio_only"), media.audio_playlist, media.opus_playlist or "")
    if not media.has_video:
        return (audio,)
    rungs = sorted((r for r in media.renditions if r.height > 0), key=lambda r: r.height)
    video = tuple(SourceChoice(r.name, r.label, r.url) for r in rungs)
    return (SourceChoice(AUTO, t("player.auto"), media.master), *video, audio)


@dataclass(frozen=True)
class PlayerPage:
    """What the player page shows."""

    lecture: LectureOut
    course_title: str
    choices: tuple[SourceChoice, ...]
    captions_url: str | None
    segments: tuple[Segment, ...]
    start: float | None
    progress: Progress
    script_config: dict
    materials: tuple[MaterialOut, ...] = ()  # the "Tài liệu" block
    doc: str = ""  # a search hit in a material (``?doc=NAME&page=N``): that material, and the page
    doc_page: int = 1


def _script_config(
    ctx: ApiContext, lecture: LectureOut, choices: tuple[SourceChoice, ...], start: float | None, progress: Progress
) -> dict:
    api = f"{ctx.prefix}/api/lectures/{lecture.id}"
    finished = heard_to_the_end(progress, lecture.duration_seconds or 0)
    return {
        "lecture": lecture.id,
        "duration": lecture.duration_seconds or 0,
        "start": start,
        "resume": 0.0 if finished else progress.resume_position,
        "finished": finished,
        "choices": [vars(c) for c in choices],
        "progressUrl": f"{api}/progress",
        "hlsScript": asset_url(ctx.settings, ctx.prefix, HLS_JS),
        "heartbeatSeconds": ctx.settings.player.heartbeat_seconds,
        "text": {key: load_catalogue("vi").get(f"player.{key}", "") for key in SCRIPT_TEXTS},
    }


def build_page(ctx: ApiContext, username: str, lecture: LectureOut, start: float | None) -> PlayerPage:
    """The player page of a lecture the caller (``username``) may see; notes the caller's first contact."""
    record_first_contact(ctx.factory, username, lecture.id, ctx.now())
    progress = load_progress(ctx.factory, username, lecture.id)
    course = records.load_course(ctx.factory, lecture.course_id)
    transcript = load_transcript(ctx.stores.transcripts, lecture.id)
    segments = transcript.segments if transcript is not None else ()
    choices = source_choices(lecture.media) if lecture.media is not None else ()
    captions = f"{ctx.prefix}/api/lectures/{lecture.id}/captions.vtt" if segments else None
    return PlayerPage(
        lecture=lecture,
        course_title=course.course.title if course else lecture.course_id,
        choices=choices,
        captions_url=captions,
        segments=segments,
        start=start,
        progress=progress,
        script_config=_script_config(ctx, lecture, choices, start, progress) | {"member": username},
    )


def with_materials(ctx: ApiContext, page: PlayerPage, doc: str, doc_page: str) -> PlayerPage:
    """The page with the lecture's materials, and the material a search hit points at (if it exists); like
    ``?t=``, a junk page number is ignored rather than refused."""
    materials = tuple(lecture_materials(ctx, page.lecture.id))
    doc = normal_name(doc) if any(m.name == normal_name(doc) for m in materials) else ""
    number = int(doc_page) if doc_page.isdigit() and len(doc_page) < 7 else 1
    return replace(page, materials=materials, doc=doc, doc_page=max(1, number))


def player_script(settings: Settings) -> Markup:
    """``static/player.js``, to inline in the page: on a first visit over a 300 ms link a separate request
    would cost a connection and a round trip (~0.6 s) before the stream could start; inline it costs ~5 KB
    gzipped per page view."""
    asset = load_asset(settings, PLAYER_JS)
    assert asset is not None, f"{PLAYER_JS} is missing from the package"
    source = asset.body.decode("utf-8")
    if "</script" in source.lower():
        raise ValueError(f"{PLAYER_JS} must not contain '</script' to be inlined")
    return Markup(source)


def render_player(page: PlayerPage, ctx: ApiContext) -> str:
    """The player page's HTML."""
    script = player_script(ctx.settings)
    return ctx.runtime.pages.get_template("player.html").render(
        page=page, speeds=SPEEDS, prefix=ctx.prefix, script=script, ready=page.lecture.status == LectureStatus.READY
    )


def not_found_page(ctx: ApiContext) -> HTMLResponse:
    """The 404 page of a lecture that does not exist or that the caller may not see (the same answer)."""
    page = render_message(ctx.runtime.pages, t("media.lecture_not_found"), logout_href(ctx.prefix), f"{ctx.prefix}/")
    return HTMLResponse(page, 404)


@router.get("/lectures/{lecture_id}", response_class=HTMLResponse, responses={404: {"description": "Not visible."}})
def player_page(
    lecture_id: str,
    start: str = Query("", alias="t", description="Seconds from the start (a search hit's deep link)."),
    doc: str = Query("", description="A material's name (a document search hit's link)."),
    doc_page: str = Query("1", alias="page", description="The page of that material the hit is on."),
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> HTMLResponse:
    """The player of one lecture (HTML); ``?t=SECONDS`` starts there (the deep link of a search hit)."""
    viewer = caller.viewer
    if ctx.visibility.lecture(viewer, lecture_id) is None:
        return not_found_page(ctx)
    record = load_lecture(ctx.factory, lecture_id, pending=can_manage_content(viewer))
    if record is None:
        return not_found_page(ctx)
    lecture = lecture_view(ctx, viewer, record)
    page = build_page(ctx, viewer.username, lecture, parse_start(start, lecture.duration_seconds))
    page = with_materials(ctx, page, doc, doc_page)
    return HTMLResponse(render_player(page, ctx))
