"""``python -m diemcau.apps.api``: run the API service, as JupyterHub does for the managed service ``diemcau``.

It listens where ``$JUPYTERHUB_SERVICE_URL`` says (default ``127.0.0.1:<hub.api_port>``), migrates the
database first (this service is its one writer), and stops promptly on SIGINT or SIGTERM — the hub stops
managed services with SIGINT and waits 30 s each.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import uvicorn
from fastapi import FastAPI

from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker
from diemcau.apps.api.app import create_app
from diemcau.apps.api.plumbing.context import DEFAULT_PREFIX
from diemcau.apps.api.plumbing.heap import freeze_startup_heap
from diemcau.apps.api.plumbing.identity import HubIdentity
from diemcau.apps.api.plumbing.token_cache import token_cache_for
from diemcau.settings import load_settings

GRACEFUL_SHUTDOWN_SECONDS = 5
APP_FACTORY = "diemcau.apps.api.__main__:build_app"  # by name: also when this module runs as ``__main__``


def bind_address(service_url: str | None, default_port: int) -> tuple[str, int]:
    """Host and port from the hub's ``JUPYTERHUB_SERVICE_URL``, else loopback on ``default_port``."""
    parts = urlsplit(service_url or "")
    return parts.hostname or "127.0.0.1", parts.port or default_port


def build_app() -> FastAPI:
    """The service's app from the settings and the hub's environment (also each worker process's factory), with
    the start-up heap frozen out of the garbage collector's full passes (``heap``)."""
    settings = load_settings()
    app = create_app(
        settings,
        HubIdentity(token_cache=token_cache_for(settings)),
        session_factory=make_sessionmaker(make_engine(settings.database_url)),
        prefix=os.environ.get("JUPYTERHUB_SERVICE_PREFIX", DEFAULT_PREFIX),
        hub_base_url=os.environ.get("JUPYTERHUB_BASE_URL", "/"),
    )
    freeze_startup_heap()
    return app


def main() -> None:
    """Load settings, migrate, and serve until signalled (``perf.api_workers`` processes on one port)."""
    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    ensure_schema(engine)  # once, before any worker starts
    engine.dispose()
    host, port = bind_address(os.environ.get("JUPYTERHUB_SERVICE_URL"), settings.hub.api_port)
    workers = settings.perf.api_workers
    # uvicorn handles SIGINT/SIGTERM itself; the timeout keeps slow clients from delaying the stop. Worker
    # processes import the app by name and build their own (engine, caches, group-commit writer).
    app: FastAPI | str = build_app() if workers == 1 else APP_FACTORY
    uvicorn.run(
        app,
        host=host,
        port=port,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        proxy_headers=True,
        workers=workers,
        factory=workers > 1,
    )


if __name__ == "__main__":
    main()
