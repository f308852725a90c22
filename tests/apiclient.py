"""The API app on a seeded small province, with one bearer token per seeded user (see ``tests/seed.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from diemcau.apps.api.app import create_app
from diemcau.apps.api.plumbing.context import utc_now
from diemcau.apps.api.plumbing.runtime import ApiRuntime
from diemcau.settings import Settings
from tests.fakes import StaticTokenIdentity
from tests.seed import TODAY, seed_small_province

PREFIX = "/services/diemcau"


def token_of(role: str) -> str:
    """The bearer token of the seeded user ``role``."""
    return f"token-{role}"


def seeded_client(
    settings: Settings, factory: sessionmaker[Session], now: Callable[[], dt.datetime] = utc_now
) -> tuple[TestClient, dict]:
    """A test client for the app on a freshly seeded database (the date fixed at ``seed.TODAY``; ``now``, the
    clock of progress, real unless a test brings its own)."""
    seeded = seed_small_province(factory)
    identity = StaticTokenIdentity({token_of(role): name for role, name in seeded["users"].items()})
    app = create_app(settings, identity, session_factory=factory, today=lambda: TODAY, now=now)
    return TestClient(app, follow_redirects=False), seeded


def runtime_of(client: TestClient) -> ApiRuntime:
    """The per-process state of the client's app (its caches, caller loader, group writer, search index)."""
    return client.app.state.context.runtime  # type: ignore[attr-defined]


def auth(role: str | None, **headers: str) -> dict[str, str]:
    """Request headers for ``role`` (``None``: anonymous)."""
    return headers if role is None else {"Authorization": f"Bearer {token_of(role)}", **headers}
