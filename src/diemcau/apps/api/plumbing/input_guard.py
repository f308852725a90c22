"""The API's outer guards: hostile JSON refused before FastAPI parses it, and no error that poisons a connection.

* ``JsonBodyGuard`` reads a JSON body (or one without a content type, which FastAPI parses as JSON too) and
  parses it with ``input_rules.loads_strict``: ``NaN``/``Infinity``, numbers that overflow, nesting past
  ``MAX_JSON_DEPTH`` and lone surrogates are a 422 with a Vietnamese message, a body past ``MAX_JSON_BYTES`` a
  413. What is not JSON at all goes on, so FastAPI answers it as always.
* ``LastResort`` answers an unexpected exception with a 500 itself. Starlette's own ``ServerErrorMiddleware``
  answers too but then re-raises, and uvicorn closes the connection of a request whose app raised: the proxy,
  which shares its kept-alive upstream connections among all members, then answered the *next* member's request
  on that connection with a 503. Here the exception ends with the response, and the connection stays usable.
* ``render_validation_error`` replaces FastAPI's 422 handler: its error list echoes the input, and an input
  JSON cannot carry (NaN) or UTF-8 cannot encode (a surrogate) made the 422 itself fail as a 500.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from typing import Any


from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from diemcau.apps.api.schemas.input_rules import MAX_JSON_BYTES, HostileJson, loads_strict
from diemcau.i18n import t

log = logging.getLogger(__name__)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Replay:
    """A ``receive`` that first gives back the messages already read, then reads on."""

    def __init__(self, messages: list[Message], receive: Receive) -> None:
        self._messages, self._receive = deque(messages), receive

    async def __call__(self) -> Message:
        return self._messages.popleft() if self._messages else await self._receive()


async def read_body(receive: Receive, limit: int) -> tuple[list[Message], bytes | None]:
    """The messages read, and the whole body — ``None`` once past ``limit`` bytes or if the client left."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        if size > limit:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)


def _parsed_as_json(scope: Scope) -> bool:
    """Would FastAPI parse this request's body as JSON (a JSON media type, or none at all)?"""
    if scope["method"] not in _BODY_METHODS:
        return False
    found = next((value for name, value in scope["headers"] if name == b"content-type"), None)
    if found is None:
        return True
    media_type = found.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or (
        media_type.startswith(b"application/") and media_type.endswith(b"+json")
    )


def refusal(code: str) -> JSONResponse:
    """The 422 of a hostile body, shaped as FastAPI's validation errors (the OpenAPI ``HTTPValidationError``)."""
    return JSONResponse({"detail": [{"type": "json_invalid", "loc": ["body"], "msg": t(f"input.{code}")}]}, 422)


class JsonBodyGuard:
    """Refuses a hostile JSON body before any route parses it (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _parsed_as_json(scope):
            await self.app(scope, receive, send)
            return
        messages, body = await read_body(receive, MAX_JSON_BYTES)
        replay = Replay(messages, receive)
        if body is None and messages[-1]["type"] == "http.request":  # too large (not a client that left)
            await JSONResponse({"detail": t("input.too_large")}, 413)(scope, replay, send)
            return
        if body:
            try:
                loads_strict(body)
            except HostileJson as hostile:
                await refusal(hostile.code)(scope, replay, send)
                return
            except ValueError:  # not JSON at all: FastAPI's own 422 says where
                pass
        await self.app(scope, replay, send)


class LastResort:
    """Answers an unexpected exception with a 500 and keeps the connection (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = {"start": False, "end": False}

        async def tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["start"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                sent["end"] = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            if sent["start"] and not sent["end"]:
                raise  # a response cut short: only closing the connection can end it
            log.exception("unexpected error in %s %s", scope["method"], scope["path"])
            if not sent["start"]:
                await JSONResponse({"detail": t("api.internal_error")}, 500)(scope, receive, send)


def _json_safe(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (ValueError, TypeError, RecursionError):  # UnicodeEncodeError is a ValueError
        return False
    return True


def _safe_error(error: dict[str, Any]) -> dict[str, Any]:
    """One validation error as FastAPI shows it, less the echoed input (a refusal never reflects what was sent)
    and less what JSON or UTF-8 cannot carry."""
    shown = {key: error[key] for key in ("type", "loc", "msg", "ctx") if key in error}
    for key in ("ctx",):
        if key in shown and not _json_safe(shown[key]):
            del shown[key]
    if not _json_safe(shown["loc"]):
        shown["loc"] = [str(part).encode("utf-8", "replace").decode("utf-8") for part in shown["loc"]]
    return shown


def _encoded(error: dict[str, Any]) -> dict[str, Any]:
    try:
        return jsonable_encoder(error)
    except (ValueError, TypeError, RecursionError):  # an input too deep or too odd to encode: say where only
        return jsonable_encoder({key: error[key] for key in ("type", "loc", "msg")})


def _field_names(errors: list[dict[str, Any]]) -> str:
    """The fields refused, as a reader names them (``events.0.seq``), at most five, without the request part."""
    names = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        name = ".".join(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc) or "body"
        if name not in names:
            names.append(name)
    return ", ".join(names[:5]).encode("utf-8", "replace").decode("utf-8")


async def render_validation_error(_request: Request, exc: Exception) -> Response:
    """FastAPI's 422 for a request that failed its schema, safe for any input: the list of errors (for programs)
    and ``message``, one Vietnamese sentence naming the fields (for people)."""
    assert isinstance(exc, RequestValidationError)
    errors = [_safe_error(_encoded(e)) for e in exc.errors()]
    return JSONResponse({"detail": errors, "message": t("input.invalid_fields", fields=_field_names(errors))}, 422)
