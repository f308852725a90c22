"""``python -m diemcau.apps.api``: run the API service, as JupyterHub does for the managed service ``diemcau``.

It listens where ``$JUPYTERHUB_SERVICE_URL`` says (default ``127.0.0.1:<hub.api_port>``), migrates the
database first (this service is its one writer), and stops promptly on SIGINT or SIGTERM — the hub stops
managed services with SIGINT and waits 30 s each.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import uvicorn

from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker
from diemcau.apps.api.app import create_app
from diemcau.apps.api.context import DEFAULT_PREFIX
from diemcau.apps.api.identity import HubIdentity
from diemcau.settings import load_settings

GRACEFUL_SHUTDOWN_SECONDS = 5


def bind_address(service_url: str | None, default_port: int) -> tuple[str, int]:
    """Host and port from the hub's ``JUPYTERHUB_SERVICE_URL``, else loopback on ``default_port``."""
    parts = urlsplit(service_url or "")
    return parts.hostname or "127.0.0.1", parts.port or default_port


def main() -> None:
    """Load settings, migrate, and serve until signalled."""
    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    ensure_schema(engine)
    app = create_app(
        settings,
        HubIdentity(),
        session_factory=make_sessionmaker(engine),
        prefix=os.environ.get("JUPYTERHUB_SERVICE_PREFIX", DEFAULT_PREFIX),
        hub_base_url=os.environ.get("JUPYTERHUB_BASE_URL", "/"),
    )
    host, port = bind_address(os.environ.get("JUPYTERHUB_SERVICE_URL"), settings.hub.api_port)
    # uvicorn handles SIGINT/SIGTERM itself; the timeout keeps slow clients from delaying the stop.
    uvicorn.run(app, host=host, port=port, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, proxy_headers=True)


if __name__ == "__main__":
    main()
