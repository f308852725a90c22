"""The API service: a JupyterHub-managed FastAPI app, the one writer of shared state.

Every route lives under the service prefix (``/services/diemcau`` by default), because the hub's proxy
forwards the full path to the service. All routes require a hub identity and an active roster member, with
two deliberate exceptions: ``GET /health``, public so orchestrators can probe the process without a token
(it returns ``{"status": "ok"}`` and nothing else), and ``GET /oauth_callback``, where a browser finishes
logging in. Routes join the protected router, whose dependency authenticates them, so a new route cannot
forget to. The OpenAPI description at ``{prefix}/openapi.json`` is authenticated too.

``create_app`` is where the app's parts are built and joined: its ``ApiContext`` and, in it, the
``ApiRuntime`` that holds everything the app keeps between requests (``runtime.py``), started and closed by the
app's lifespan.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from diemcau.adapters.db.engine import engine_of, make_engine, make_sessionmaker
from diemcau.adapters.db.group_commit import GroupWriter
from diemcau.adapters.db.quizzes import ReleasedForms
from diemcau.adapters.passwords import SecretVerifier
from diemcau.adapters.storage import stores_of
from diemcau.apps.api.pages import assets, offline, player, portal, quiz_pages, search_pages, staff
from diemcau.apps.api.pages.environment import page_environment
from diemcau.apps.api.pages.links import hub_logout_href
from diemcau.apps.api.plumbing.access import current_caller, install_handlers, load_callers
from diemcau.apps.api.plumbing.caches import ApiCaches
from diemcau.apps.api.plumbing.coalesced_loads import CoalescedLoader
from diemcau.apps.api.plumbing.context import (
    DEFAULT_PREFIX,
    ApiContext,
    context_of,
    normalise_prefix,
    utc_now,
    vietnam_today,
)
from diemcau.apps.api.plumbing.headers import SecurityHeaders, content_security_policy, script_hash
from diemcau.apps.api.plumbing.identity import Identity
from diemcau.apps.api.plumbing.input_guard import JsonBodyGuard, LastResort, render_validation_error
from diemcau.apps.api.plumbing.progress_fast_path import ProgressFastPath
from diemcau.apps.api.plumbing.runtime import ApiRuntime, SearchIndexSlot
from diemcau.apps.api.plumbing.visibility import Visibility
from diemcau.apps.api.routes import (
    completion,
    courses,
    dashboards,
    lectures,
    materials,
    me,
    media,
    members,
    org_units,
    progress,
    questions,
    quizzes,
    search,
    studio_quizzes,
    transcripts,
)
from diemcau.apps.api.schemas.common import HealthOut
from diemcau.i18n import t
from diemcau.search.indexer import open_index
from diemcau.settings import Settings

# Routes outside the OpenAPI description, on purpose; tests/test_api_authz.py checks nothing else hides.
UNDOCUMENTED_ROUTES = frozenset({("GET", "/openapi.json"), ("GET", "/oauth_callback"), ("GET", "/logout")})


def _public_router(identity: Identity) -> APIRouter:
    router = APIRouter()

    @router.get("/health", response_model=HealthOut, tags=["health"])
    def health() -> HealthOut:
        """Liveness probe; public, and says nothing but ``ok``."""
        return HealthOut()

    @router.get("/oauth_callback", include_in_schema=False)
    async def oauth_callback(request: Request) -> Response:
        return await identity.complete_login(request)

    @router.get("/logout", include_in_schema=False)
    def logout(request: Request, ctx: ApiContext = Depends(context_of)) -> Response:
        # No login needed: it only ends one. The portal's "Đăng xuất" comes here, then to the hub's logout.
        return identity.logout(request, hub_logout_href(ctx.hub_base_url))

    return router


def _protected_router(app: FastAPI) -> APIRouter:
    router = APIRouter(dependencies=[Depends(current_caller)])
    # progress first: routes are tried in order, and every playing member's heartbeat would otherwise be
    # matched against ~70 routes before its own (a third of the request's CPU on FastAPI 0.163).
    for module in (
        progress,
        portal,
        me,
        courses,
        org_units,
        members,
        transcripts,
        search,
        lectures,
        media,
        quizzes,
        quiz_pages,
        player,
        search_pages,
        assets,
        completion,
        dashboards,
        studio_quizzes,
        questions,
        materials,
        staff,
        offline,
    ):
        router.include_router(module.router)

    @router.get("/openapi.json", include_in_schema=False)
    def openapi() -> dict:
        return app.openapi()

    return router


def _describe_refusals(app: FastAPI) -> Callable[[], dict]:
    """``app.openapi``, telling the 422 as the routes send it: FastAPI's list of schema errors, or one message
    (``HTTPException(422, message)``: a rule past the schema, in Vietnamese)."""
    describe = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = describe()
            error = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
            if error is not None:
                errors = error["properties"]["detail"]
                error["properties"]["detail"] = {"anyOf": [errors, {"type": "string"}], "title": "Detail"}
                error["properties"]["message"] = {
                    "type": "string",
                    "title": "Message",
                    "description": "The refusal in Vietnamese, naming the fields.",
                }
        return describe()

    return openapi


def build_runtime(settings: Settings, factory: sessionmaker[Session], prefix: str) -> ApiRuntime:
    """The app's per-process state, empty: caches and their lifetimes, loader and writer from ``settings.perf``;
    the search index on the app's own engine, opened when first wanted; the Argon2 cost from ``settings.auth``."""
    perf = settings.perf
    gather_seconds = perf.gather_ms / 1000
    return ApiRuntime(
        caches=ApiCaches.from_settings(perf),
        callers=CoalescedLoader(functools.partial(load_callers, factory), gather_seconds),
        writer=GroupWriter(
            factory, perf.group_commit_max, gather_seconds=gather_seconds, max_gather_seconds=perf.gather_max_ms / 1000
        ),
        search=SearchIndexSlot(functools.partial(open_index, settings, engine=engine_of(factory), prefix=prefix)),
        pages=offline.with_offline(page_environment(), settings, prefix),
        visibility=Visibility(factory, perf),
        secrets=SecretVerifier.from_settings(settings.auth),
        forms=ReleasedForms(factory),
        stores=stores_of(settings),
    )


def _lifespan(ctx: ApiContext) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def serving(_app: FastAPI) -> AsyncIterator[None]:
        """The search index opens at start-up; at shutdown the runtime closes (the index, and the writer once every
        queued write is answered)."""
        await asyncio.to_thread(ctx.runtime.search.index)
        try:
            yield
        finally:
            await asyncio.to_thread(ctx.runtime.close)

    return serving


def create_app(
    settings: Settings,
    identity: Identity,
    *,
    session_factory: sessionmaker[Session] | None = None,
    prefix: str = DEFAULT_PREFIX,
    hub_base_url: str = "/",
    today: Callable[[], dt.date] = vietnam_today,
    now: Callable[[], dt.datetime] = utc_now,
) -> FastAPI:
    """The API app. Without ``session_factory`` it opens ``settings.database_url`` (already migrated)."""
    prefix = normalise_prefix(prefix)
    factory = session_factory or make_sessionmaker(make_engine(settings.database_url))
    runtime = build_runtime(settings, factory, prefix)
    ctx = ApiContext(settings, identity, factory, runtime, prefix, hub_base_url, today, now)
    app = FastAPI(
        title=f"{t('app.name')} API", openapi_url=None, docs_url=None, redoc_url=None, lifespan=_lifespan(ctx)
    )
    app.state.context = ctx
    # Each middleware added wraps those before it: the security headers outermost (every response carries them,
    # the last resort's 500 included), the last resort, then the fast path (ahead of the guard and GZip: see
    # progress_fast_path), the hostile-JSON guard, GZip.
    app.add_middleware(GZipMiddleware, minimum_size=500)
    app.add_middleware(JsonBodyGuard)
    if settings.perf.fast_progress:
        app.add_middleware(ProgressFastPath, prefix=prefix)
    app.add_middleware(LastResort)
    policy = content_security_policy([script_hash(player.player_script(settings))])
    app.add_middleware(SecurityHeaders, policy=policy)
    install_handlers(app)
    app.add_exception_handler(RequestValidationError, render_validation_error)
    app.include_router(_public_router(identity), prefix=prefix)
    app.include_router(_protected_router(app), prefix=prefix)
    app.openapi = _describe_refusals(app)  # type: ignore[method-assign]
    return app
