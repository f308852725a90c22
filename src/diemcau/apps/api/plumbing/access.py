"""Authentication of every protected route: hub identity first, then the roster must know the member.

Failures are exceptions turned into responses by ``install_handlers``: no identity gives a 401 JSON body to
API clients and a redirect to Hub OAuth to browsers asking for a page; a hub user who is not an active member
of the roster gets a 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from http import HTTPStatus

from fastapi import Depends, FastAPI
from fastapi.exception_handlers import http_exception_handler
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from diemcau.adapters.db import records
from diemcau.adapters.db.accounts import normalise_username
from diemcau.adapters.db.caller_lookup import CallerFacts, load_callers_facts
from diemcau.apps.api.pages.environment import render_message
from diemcau.apps.api.pages.links import logout_href
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.plumbing.identity import wants_login_redirect
from diemcau.core.roles import Viewer
from diemcau.i18n import t


class LoginRequired(Exception):
    """The request carries no valid hub credential."""


class Denied(Exception):
    """The caller is known to the hub but may not use the service; ``code`` is a key under ``api.``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Caller:
    """The authenticated member: their authorization view and their roster record."""

    viewer: Viewer
    member: records.MemberRecord


def _caller_of(facts: CallerFacts | None) -> Caller:
    """The caller these facts describe, or the refusal of a member not (or no longer) on the roster."""
    if facts is None:
        raise Denied("not_in_roster")
    if not facts.active:
        raise Denied("inactive")
    member = records.MemberRecord(
        facts.card,
        facts.full_name,
        facts.unit,
        facts.active,
        facts.activated,
        facts.locked_until,
        facts.roles,
        facts.activation_expires_at,
    )
    return Caller(facts.viewer, member)


def load_callers(factory: sessionmaker[Session], usernames: list[str]) -> dict[str, Caller | Denied]:
    """Each hub username's caller, or its refusal, read in one query (the ``load_many`` of the app's
    ``runtime.callers`` loader)."""
    with factory() as session:
        facts = load_callers_facts(session, usernames)
    found: dict[str, Caller | Denied] = {}
    for name in usernames:
        try:
            found[name] = _caller_of(facts.get(normalise_username(name)))
        except Denied as refusal:
            found[name] = refusal
    return found


async def api_context(request: Request) -> ApiContext:
    """``context_of`` as an ``async`` dependency: FastAPI runs a plain ``def`` dependency in its thread pool, a
    hop per request that the hottest routes (every player heartbeat) need not pay."""
    return context_of(request)


async def current_caller(request: Request, ctx: ApiContext = Depends(api_context)) -> Caller:
    """The member making the request (a FastAPI dependency on every protected route)."""
    username = await ctx.identity.username_for(request)
    if username is None:
        raise LoginRequired()
    # Kept per process for ``settings.perf.caller_seconds`` (60 s: a revoked grant takes effect within a minute,
    # as the hub's own token cache); refusals are never kept.
    callers = ctx.runtime.caches.callers
    found = callers.get(username)
    if found is not None:
        return found
    # Misses of concurrent requests are read together (a crowd that arrived together misses together).
    return callers.put(username, await ctx.runtime.callers.load(username))


def _is_page(request: Request) -> bool:
    ctx = context_of(request)
    return wants_login_redirect(request.method, request.url.path, request.headers.get("accept", ""), ctx.prefix)


def _message_response(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """``message`` as a page for a browser's navigation (with the way out), as JSON ``detail`` for anything else."""
    if _is_page(request):
        ctx = context_of(request)
        page = render_message(ctx.runtime.pages, message, logout_href(ctx.prefix), f"{ctx.prefix}/")
        return HTMLResponse(page, status_code=status, headers=headers)
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


# Refusals the router itself raises, with HTTP's English reason as their detail: said in Vietnamese instead.
_STOCK_REFUSALS = {404: "api.no_such_address", 405: "api.method_not_allowed"}


def install_handlers(app: FastAPI) -> None:
    """Turn authentication failures into 401 / redirect / 403 responses, and the router's own English refusals
    (an address no route serves, a method it does not take) into Vietnamese ones: a page with the way back for
    a browser that navigated there (a mistyped or stale link), JSON for anything else."""

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        key = _STOCK_REFUSALS.get(exc.status_code)
        if key is not None and exc.detail == HTTPStatus(exc.status_code).phrase:
            return _message_response(request, exc.status_code, t(key), exc.headers)
        return await http_exception_handler(request, exc)

    async def login_required(request: Request, _exc: Exception) -> Response:
        if _is_page(request):
            return context_of(request).identity.login_redirect(request)
        response = JSONResponse({"detail": t("api.login_required")}, status_code=401)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    async def denied(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Denied)
        return _message_response(request, 403, t(f"api.{exc.code}"))

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(Denied, denied)
    app.add_exception_handler(StarletteHTTPException, refused)
