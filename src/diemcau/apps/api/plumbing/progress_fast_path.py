"""The player's heartbeat, ``POST {prefix}/api/lectures/{id}/progress``, answered ahead of FastAPI.

Every playing member posts one event every 15 s, and through FastAPI each post paid for matching routes,
solving dependencies and request/response models: ~0.4–0.65 ms of CPU a post, a third of the app's own cost
(``bench/progress_asgi_cpu.py``; docs/benchmarks.md). ``ProgressFastPath`` is a pure-ASGI middleware that
answers exactly that method and path with the route's own pieces: ``EventsIn`` validates the body,
``access.current_caller`` finds the member (hub identity, caller cache), ``progress.ingest`` checks the lecture
(lecture cache) and records the events within the real-time bound on coverage (group commit, answered only after
the commit), and the app's own exception handlers turn refusals (401, 403, 404, 409, 503) into the route's
answers.

What it does not take as plainly valid it hands, bytes replayed, to the FastAPI route, which answers as it
always does: another content type, a body that is not JSON, hostile JSON (``input_guard`` refuses it) or fails
``EventsIn`` (the route's 422 and its error list), a body past ``MAX_BODY_BYTES``. An unexpected exception
propagates to ``input_guard.LastResort``: a 500, as from the route, and never an acknowledgement of events not
committed.
Switched by ``settings.perf.fast_progress``.
"""

from __future__ import annotations

import inspect
import re

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from diemcau.adapters.db.progress import MAX_EVENTS_PER_POST
from diemcau.apps.api.plumbing.access import Denied, LoginRequired, current_caller
from diemcau.apps.api.plumbing.context import context_of
from diemcau.apps.api.plumbing.input_guard import Replay, read_body
from diemcau.apps.api.routes.progress import EventsIn, ingest
from diemcau.apps.api.schemas.input_rules import loads_strict

# A full post of valid events is well under this; a bigger body goes to the route, which reads it all (and
# refuses it if it carries too many events), so the fast path never holds more than this in memory.
MAX_BODY_BYTES = MAX_EVENTS_PER_POST * 512
# What the player and ``fetch``/httpx send; any other spelling goes through FastAPI's own content-type rules.
_JSON_TYPES = frozenset({"application/json", "application/json; charset=utf-8"})


class ProgressFastPath:
    """Serves ``POST {prefix}/api/lectures/{lecture_id}/progress``; every other request passes through untouched."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        # Starlette's own pattern for the route's path: the parameter is one non-empty path segment.
        self._path = re.compile(re.escape(prefix) + r"/api/lectures/([^/]+)/progress")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lecture_id = self._lecture_of(scope)
        if lecture_id is None:
            await self.app(scope, receive, send)
            return
        messages, body = await read_body(receive, MAX_BODY_BYTES)
        replay = Replay(messages, receive)
        request = Request(scope, replay)
        posted = _events_in(request, body)
        if posted is None:  # the route answers it, as it would without this path
            await self.app(scope, replay, send)
            return
        ctx = context_of(request)
        try:
            progress = await ingest(ctx, await current_caller(request, ctx), lecture_id, posted)
        except (LoginRequired, Denied, HTTPException) as refusal:
            response = await _refusal(request, refusal)
        else:  # as FastAPI serialises a ``response_model`` (``Response`` of the model's JSON)
            response = Response(progress.model_dump_json(), media_type="application/json")
        # Both answers are far below GZipMiddleware's minimum size, so placing this path ahead of it changes nothing.
        await response(scope, replay, send)

    def _lecture_of(self, scope: Scope) -> str | None:
        """The lecture id if ``scope`` is a progress post, else ``None``."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root + "/"):  # as Starlette's routing strips a root path
            path = path[len(root) :]
        match = self._path.fullmatch(path)
        return match.group(1) if match else None


def _events_in(request: Request, body: bytes | None) -> EventsIn | None:
    """The posted events if the body is JSON that ``EventsIn`` accepts (as FastAPI parses it), else ``None``."""
    if body is None or request.headers.get("content-type") not in _JSON_TYPES:
        return None
    try:
        # FastAPI: ``json.loads``, then the model, lax mode; here the strict parse the route's guard applies
        return EventsIn.model_validate(loads_strict(body))
    except (ValueError, ValidationError):  # not JSON, hostile JSON (``HostileJson``), or not valid
        return None


async def _refusal(request: Request, refusal: Exception) -> Response:
    """The app's own answer to a refusal: the handler its ``ExceptionMiddleware`` would pick (by class)."""
    handlers = request.app.exception_handlers
    handler = next((handlers[cls] for cls in type(refusal).__mro__ if cls in handlers), None)
    if handler is None:
        raise refusal
    response = handler(request, refusal)
    return await response if inspect.isawaitable(response) else response
