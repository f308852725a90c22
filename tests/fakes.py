"""Named fakes at the edges of the system, never in place of the thing under test."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import HTTPException
from jupyterhub.services.auth import HubOAuth
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from diemcau.apps.api.identity import token_from_header

FAKE_LOGIN_URL = "/hub/api/oauth2/authorize"


class StaticTokenIdentity:
    """Stands in for the hub's token check at the edge: maps bearer tokens to hub usernames.

    The API's own rules (roster lookup, authorization) run for real behind it. The real hub — Hub OAuth and
    token checks by ``HubIdentity`` — is exercised by ``tests/test_hub_*.py``.
    """

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = dict(tokens)

    async def username_for(self, request: Request) -> str | None:
        """The username of the request's bearer token, if it is one of ours."""
        token = token_from_header(request.headers.get("authorization", ""))
        return self.tokens.get(token or "")

    def login_redirect(self, request: Request) -> Response:
        """Send the browser to where the hub's authorize URL would be."""
        return RedirectResponse(f"{FAKE_LOGIN_URL}?next={request.url.path}", status_code=302)

    async def complete_login(self, request: Request) -> Response:
        """There is no OAuth dance without a hub."""
        raise HTTPException(404)


class OfflineHubOAuth(HubOAuth):
    """``HubOAuth`` with its one HTTP call to the hub answered from memory (``users`` by token, ``codes``).

    Everything above the wire — caching, state, PKCE, scope checks — is the real jupyterhub code.
    """

    def __init__(self, users: dict[str, dict], codes: dict[str, str], **config: Any) -> None:
        super().__init__(**config)
        self.users, self.codes, self.requests = users, codes, []

    async def _api_request(self, method: str, url: str, /, **kwargs: Any) -> Any:
        self.requests.append((method, url))
        if url.endswith("/oauth2/token"):
            form = parse_qs(kwargs["data"].decode())
            return {"access_token": self.codes[form["code"][0]]}
        if urlsplit(url).path.endswith("/user"):
            token = kwargs["headers"]["Authorization"].split(" ", 1)[1]
            return self.users.get(token)
        raise AssertionError(f"unexpected hub request {method} {url}")
