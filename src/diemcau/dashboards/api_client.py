"""A small client of the Điểm Cầu API for dashboards, calling it with the viewer's own hub token.

Inside a staff server the hub gives the kernel ``JUPYTERHUB_API_TOKEN`` (the server's token, whose ``server``
role may call the API service as its owner) and the spawner sets ``DIEMCAU_API_URL`` (the service's loopback
address, from the settings). Without that variable the service is looked for on the host of
``JUPYTERHUB_API_URL`` at the default API port: the hub's own address does not route ``/services/`` (only the
proxy does), so the host is all that can be derived from it. Tests pass an explicit base URL and token.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from diemcau.i18n import t

SERVICE_PATH = "/services/diemcau"
DEFAULT_API_PORT = 8090


class ApiError(Exception):
    """A call the dashboard could not complete; ``message`` is Vietnamese, for the page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def api_url_from_env(environ: Mapping[str, str]) -> str:
    """The API service's base URL (with its ``/services/diemcau`` prefix) for a kernel in a staff server."""
    explicit = environ.get("DIEMCAU_API_URL", "").strip()
    if explicit:
        return explicit.rstrip("/")
    hub = urlsplit(environ.get("JUPYTERHUB_API_URL", "") or "http://127.0.0.1:8081/hub/api")
    return f"{hub.scheme or 'http'}://{hub.hostname or '127.0.0.1'}:{DEFAULT_API_PORT}{SERVICE_PATH}"


def _message(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, str) and detail:
        return detail
    if response.status_code in (401, 403):
        return t("dashboard.login_again")
    return t("dashboard.server_error", code=response.status_code)


class ApiClient:
    """``GET``/``POST`` JSON on the API with a bearer token; every failure becomes an ``ApiError``."""

    def __init__(self, base_url: str, token: str, timeout: float = 120.0) -> None:
        self.base_url, self.token = base_url.rstrip("/"), token
        self._http = httpx.Client(
            timeout=timeout, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiClient:
        """The client a notebook uses: the viewer's hub token, the service's address from the environment."""
        env = os.environ if environ is None else environ
        return cls(api_url_from_env(env), env.get("JUPYTERHUB_API_TOKEN", ""))

    @property
    def public_prefix(self) -> str:
        """The service prefix as the browser sees it (``/services/diemcau``), for links on the page."""
        return urlsplit(self.base_url).path.rstrip("/")

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, self.base_url + path, **kwargs)
        except httpx.HTTPError:
            raise ApiError(0, t("dashboard.unreachable")) from None
        if response.status_code >= 400:
            raise ApiError(response.status_code, _message(response))
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self._send("GET", path, params={k: v for k, v in params.items() if v not in (None, "")})

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return self._send("POST", path, json=dict(body))

    def courses(self) -> list[dict]:
        return self.get("/api/courses")

    def org_units(self) -> list[dict]:
        return self.get("/api/org-units")

    def lectures(self, course_id: str | None = None) -> list[dict]:
        return self.get("/api/lectures", course=course_id)

    def quizzes(self, course_id: str) -> list[dict]:
        return self.get(f"/api/quizzes/{course_id}")

    def completion(self, course_id: str, org: str | None = None) -> dict:
        return self.get(f"/api/courses/{course_id}/completion", org=org)

    def completion_units(self, course_id: str, org: str | None = None) -> dict:
        return self.get(f"/api/courses/{course_id}/completion/units", org=org)

    def completion_history(self, course_id: str, org: str | None = None) -> dict:
        return self.get(f"/api/courses/{course_id}/completion/history", org=org)

    def lecture_analytics(self, lecture_id: str, buckets: int = 40) -> dict:
        return self.get(f"/api/lectures/{lecture_id}/analytics", buckets=buckets)

    def record_screening(self, lecture_id: str, held_on: dt.date | None, members: list[str], place: str = "") -> dict:
        """``POST /api/screenings``; a missing lecture (``""``), date (``None``) or member is the API's to name."""
        day = None if held_on is None else held_on.isoformat()
        body = {"lecture_id": lecture_id, "held_on": day, "members": members, "place": place}
        return self.post("/api/screenings", body)

    def close(self) -> None:
        self._http.close()
