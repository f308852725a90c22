"""Named fakes at the edges of the system, never in place of the thing under test."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import HTTPException
from jupyterhub.services.auth import HubOAuth
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from diemcau.apps.api.plumbing.identity import Identity, token_from_header

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

    def logout(self, request: Request, then: str) -> Response:
        """Bearer tokens have no cookie to delete: straight on to ``then``."""
        return RedirectResponse(then, status_code=302)


class TokensThenHub:
    """The test cluster's API hosts' identity (``tests/cluster_api.py``): the seeded users' test tokens first
    (``StaticTokenIdentity``), so the tests that send them need no hub; anything else, and every browser login,
    goes to the real ``HubIdentity`` (Hub OAuth against the hub host, once a test starts it)."""

    def __init__(self, tokens: StaticTokenIdentity, hub: Identity) -> None:
        self.tokens, self.hub = tokens, hub

    async def username_for(self, request: Request) -> str | None:
        """A test token's user, else the hub's answer (``None`` without asking it when there is no credential)."""
        return await self.tokens.username_for(request) or await self.hub.username_for(request)

    def login_redirect(self, request: Request) -> Response:
        """To the hub's authorize URL, as the real service sends a browser."""
        return self.hub.login_redirect(request)

    async def complete_login(self, request: Request) -> Response:
        """The real OAuth callback: the code exchanged with the hub, the service's cookie set."""
        return await self.hub.complete_login(request)

    def logout(self, request: Request, then: str) -> Response:
        """The real service logout: its cookie deleted, its token forgotten."""
        return self.hub.logout(request, then)


class OfflineHubOAuth(HubOAuth):
    """``HubOAuth`` with its one HTTP call to the hub answered from memory (``users`` by token, ``codes``).

    Everything above the wire — caching, state, PKCE, scope checks — is the real jupyterhub code.
    """

    def __init__(self, users: dict[str, dict], codes: dict[str, str], **config: Any) -> None:
        super().__init__(**config)
        self.users, self.codes, self.requests = users, codes, []
        self.token_forms: list[dict[str, list[str]]] = []  # each code exchange's form (code, PKCE verifier)

    async def _api_request(self, method: str, url: str, /, **kwargs: Any) -> Any:
        self.requests.append((method, url))
        if url.endswith("/oauth2/token"):
            form = parse_qs(kwargs["data"].decode())
            self.token_forms.append(form)
            return {"access_token": self.codes[form["code"][0]]}
        if urlsplit(url).path.endswith("/user"):
            token = kwargs["headers"]["Authorization"].split(" ", 1)[1]
            return self.users.get(token)
        raise AssertionError(f"unexpected hub request {method} {url}")


class FakeInternet:
    """Stands in for DNS and the internet at the egress guard's edge (``media.egress_guard.Network``).

    ``names`` maps host names to the addresses DNS would give; ``routes`` maps addresses (public-looking ones,
    say) to a port on this machine's loopback, where a test server plays that host. Every other address is
    connected for real only if ``pass_through`` — so no test ever reaches the real internet. The guard's own
    rule (resolve, check every address, connect to a checked one) runs for real in front of it.
    """

    def __init__(self, names: dict[str, list[str]], routes: dict[str, int] | None = None, pass_through: bool = True):
        self.names = {host: [ipaddress.ip_address(a) for a in addresses] for host, addresses in names.items()}
        self.routes = {ipaddress.ip_address(a): port for a, port in (routes or {}).items()}
        self.pass_through = pass_through
        self.connected: list[tuple[str, int]] = []

    def resolve(self, host: str, port: int) -> list[Any]:
        """The addresses given for ``host``; an unknown name does not resolve."""
        if host not in self.names:
            raise OSError(f"{host}: name not known to the fake internet")
        return list(self.names[host])

    def connect(self, address: Any, port: int, timeout: float) -> Any:
        """A routed address reaches its loopback port; loopback itself is connected only if ``pass_through``."""
        self.connected.append((str(address), port))
        if address in self.routes:
            return socket.create_connection(("127.0.0.1", self.routes[address]), timeout=timeout)
        if self.pass_through and address.is_loopback:
            return socket.create_connection((str(address), port), timeout=timeout)
        raise OSError(f"{address}: no route in the fake internet")
