"""What every request handler shares: settings, identity, the database, the app's runtime (caches, caller loader,
group writer, search index, page templates), the service prefix and the clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from diemcau.adapters.storage import Stores
from diemcau.apps.api.plumbing.identity import Identity
from diemcau.apps.api.plumbing.runtime import ApiRuntime
from diemcau.apps.api.plumbing.visibility import Visibility
from diemcau.settings import Settings

DEFAULT_PREFIX = "/services/diemcau"
# Deadlines are Vietnamese calendar dates; Vietnam keeps UTC+7 all year (no daylight saving).
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")


def vietnam_today() -> dt.date:
    """Today's date in Vietnam."""
    return dt.datetime.now(VIETNAM).date()


def utc_now() -> dt.datetime:
    """The current time, in UTC (the clock that dates first contacts and receipts of progress, and that login
    waits are counted on)."""
    return dt.datetime.now(dt.UTC)


def normalise_prefix(prefix: str) -> str:
    """``services/diemcau/`` → ``/services/diemcau`` (routes append their own slash)."""
    return "/" + prefix.strip("/") if prefix.strip("/") else ""


@dataclass(frozen=True)
class ApiContext:
    """The app-wide dependencies, built once by ``create_app``; ``runtime`` is all the app holds between requests."""

    settings: Settings
    identity: Identity
    factory: sessionmaker[Session]
    runtime: ApiRuntime
    prefix: str = DEFAULT_PREFIX
    hub_base_url: str = "/"
    today: Callable[[], dt.date] = vietnam_today
    now: Callable[[], dt.datetime] = utc_now

    @property
    def visibility(self) -> Visibility:
        """Who may see which course and lecture, behind the app's one visibility cache (``perf.lecture_seconds``)."""
        return self.runtime.visibility

    @property
    def stores(self) -> Stores:
        """Media, transcripts and materials, on the volumes the settings name (``adapters/storage.py``)."""
        return self.runtime.stores


def context_of(request: Request) -> ApiContext:
    """The app's context (a FastAPI dependency)."""
    return request.app.state.context
