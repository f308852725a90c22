"""Who is calling: the hub user behind a request, and the Hub OAuth dance for browsers.

The API trusts only JupyterHub. A caller proves who they are with a hub token, either in the
``Authorization: token <t>`` (or ``Bearer``) header — notebooks and the studio send the user's own token —
or, for a browser, in the cookie this service sets at the end of Hub OAuth. Cookie authentication is only
accepted on safe methods (GET, HEAD), or on a write that carries the ``X-Diemcau-Request: 1`` header, which the
portal's own scripts send (a quiz submission): a cross-site form cannot set a header, and a cross-origin script
setting one needs a CORS preflight this service never grants, so no other site can act with a member's cookie
(defence in depth on top of ``SameSite=Lax``).

Nothing of a login lives in one process: the token cookie and the login's state cookie (state, the page to
return to, the PKCE verifier; ``HubOAuth`` would keep these in memory) are signed with keys derived from the
service's hub token, so a login begun on one API replica (or ``perf.api_workers`` process) completes on any other.

``Identity`` is the narrow seam the app depends on; ``HubIdentity`` implements it with
``jupyterhub.services.auth.HubOAuth``, which reads the environment the hub gives a managed service
(``JUPYTERHUB_API_TOKEN``, ``JUPYTERHUB_API_URL``, ``JUPYTERHUB_CLIENT_ID``, ``JUPYTERHUB_SERVICE_PREFIX``,
``JUPYTERHUB_OAUTH_CALLBACK_URL``, ``JUPYTERHUB_HOST``, ``JUPYTERHUB_BASE_URL``) and caches token lookups.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Any, Protocol

from fastapi import HTTPException
from jupyterhub.services.auth import HubOAuth, check_scopes
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from tornado.httputil import url_concat
from tornado.web import HTTPError as TornadoHTTPError
from traitlets import TraitError

from diemcau.apps.api.plumbing.token_cache import TokenCache
from diemcau.i18n import t

SAFE_METHODS = frozenset({"GET", "HEAD"})
SAME_ORIGIN_HEADER = "x-diemcau-request"  # set by the portal's scripts on writes (see the module docstring)
LOGIN_STATE_SECONDS = 600  # a browser has this long between leaving for the hub's login and coming back
_AUTH_HEADER = re.compile(r"^\s*(?:token|bearer)\s+(\S+)\s*$", re.IGNORECASE)


class Identity(Protocol):
    """Resolves requests to hub usernames and sends browsers to log in."""

    async def username_for(self, request: Request) -> str | None:
        """The hub username behind ``request``, or ``None`` when it carries no valid credential."""
        ...

    def login_redirect(self, request: Request) -> Response:
        """The response sending a browser to log in, coming back to this request's URL afterwards."""
        ...

    def logout(self, request: Request, then: str) -> Response:
        """The response ending this service's login in the browser (its cookie deleted, its token forgotten
        here), then sending it to ``then`` (the hub's logout)."""
        ...

    async def complete_login(self, request: Request) -> Response:
        """Finish a browser login at the OAuth callback."""
        ...


def token_from_header(value: str) -> str | None:
    """The token in an ``Authorization: token <t>`` or ``Bearer <t>`` header value, if any."""
    match = _AUTH_HEADER.match(value or "")
    return match.group(1) if match else None


def wants_login_redirect(method: str, path: str, accept: str, prefix: str) -> bool:
    """Should an unauthenticated request be redirected to log in (a browser page) rather than get a 401?

    Only GETs outside ``{prefix}/api/`` and ``*.json`` are pages, when they accept HTML (or anything, as a
    plain link-follower does); API clients always get JSON.
    """
    is_api = path.startswith(prefix.rstrip("/") + "/api/") or path.endswith(".json")
    accepts_html = "text/html" in accept or accept.strip() in ("", "*/*")
    return method == "GET" and accepts_html and not is_api


def request_is_https(request: Request) -> bool:
    """Did the browser use HTTPS (directly, or as the proxy in front reports)?"""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return (forwarded or request.url.scheme) == "https"


class HubIdentity:
    """The real identity: hub tokens checked against JupyterHub's API, browsers logged in with Hub OAuth.

    Configuration comes from the hub's environment; pass ``HubOAuth`` traits (``api_token``,
    ``oauth_client_id``, ``base_url``, ``api_url``, ``hub_prefix`` ...) to override it, as tests do.
    """

    def __init__(self, hub_auth: HubOAuth | None = None, token_cache: TokenCache | None = None, **config: Any) -> None:
        # What the hub says of a token is remembered by ``token_cache`` (shared by the replicas where they run on
        # Redis: ``token_cache.token_cache_for``), not by HubOAuth's own per-process cache, which is bypassed.
        self.tokens = token_cache if token_cache is not None else TokenCache()
        try:
            self.hub_auth = hub_auth or HubOAuth(**config)
        except (TraitError, ValueError) as exc:
            raise RuntimeError(
                f"Hub OAuth is not configured ({exc}). Run the API as a JupyterHub-managed service "
                "(c.JupyterHub.services), which sets JUPYTERHUB_API_TOKEN and JUPYTERHUB_CLIENT_ID."
            ) from None
        if not self.hub_auth.access_scopes:
            # Without them any valid hub token would do, e.g. one a member gave another service (an external
            # replica gets JUPYTERHUB_SERVICE_NAME from its operator, not from the hub: docs/deploy-nginx.md).
            raise RuntimeError(
                "Hub OAuth has no access scopes: set JUPYTERHUB_SERVICE_NAME=diemcau (or "
                "JUPYTERHUB_OAUTH_ACCESS_SCOPES) so only tokens allowed to use this service are accepted."
            )
        # Both keys derive from the service's hub token, which every replica of the service shares.
        self._cookie_key = hashlib.sha256(b"diemcau-cookie:" + self.hub_auth.api_token.encode()).digest()
        self._state_key = hashlib.sha256(b"diemcau-oauth-state:" + self.hub_auth.api_token.encode()).digest()

    async def username_for(self, request: Request) -> str | None:
        """The hub user owning the request's token (header, or cookie on safe methods)."""
        token = token_from_header(request.headers.get("authorization", ""))
        if token is None and (request.method in SAFE_METHODS or request.headers.get(SAME_ORIGIN_HEADER) == "1"):
            token = self._unsign(request.cookies.get(self.hub_auth.cookie_name, ""))
        if not token:
            return None
        if (known := self.tokens.get(token)) is not None:
            return known
        try:
            model = await self.hub_auth.user_for_token(token, use_cache=False, sync=False)
        except TornadoHTTPError as exc:
            raise HTTPException(503, t("api.hub_unavailable")) from exc
        if not model or model.get("kind", "user") != "user":
            return None
        required = self.hub_auth.access_scopes
        if required and not check_scopes(required, model.get("scopes", [])):
            return None
        self.tokens.put(token, model["name"])  # only accepted tokens are remembered
        return model["name"]

    def login_redirect(self, request: Request) -> Response:
        """Redirect to the hub's OAuth authorize URL, remembering the state, the page to return to and the PKCE
        verifier in a signed cookie (not in this process's memory, as ``HubOAuth.generate_state`` would: the
        callback may reach another replica of the service)."""
        verifier, challenge, method = self.hub_auth.generate_pkce_code_challenge()
        next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        state = secrets.token_urlsafe(16)
        params = {"state": state, "code_challenge": challenge, "code_challenge_method": method}
        response = RedirectResponse(url_concat(self.hub_auth.login_url, params), status_code=302)
        record = {"state": state, "next": next_url, "verifier": verifier, "until": time.time() + LOGIN_STATE_SECONDS}
        sealed = self._seal(record)
        self._set_cookie(request, response, self.hub_auth.state_cookie_name, sealed, max_age=LOGIN_STATE_SECONDS)
        return response

    async def complete_login(self, request: Request) -> Response:
        """``GET {prefix}oauth_callback``: check the state, exchange the code for a token, set the cookie."""
        query = request.query_params
        if query.get("error"):
            raise HTTPException(400, f"OAuth error: {query.get('error_description') or query['error']}")
        code, state = query.get("code"), query.get("state")
        if not code or not state:
            raise HTTPException(400, t("api.login_again"))
        record = self._unseal(request.cookies.get(self.hub_auth.state_cookie_name, ""))
        if record is None or not hmac.compare_digest(str(record.get("state")).encode(), state.encode()):
            raise HTTPException(403, t("api.login_again"))
        next_url, verifier = str(record.get("next") or self.hub_auth.base_url), record.get("verifier")
        try:
            token = await self.hub_auth.token_for_code(code, code_verifier=verifier, sync=False)
        except TornadoHTTPError as exc:
            raise HTTPException(502, t("api.login_again")) from exc
        response = RedirectResponse(next_url, status_code=302)
        response.delete_cookie(self.hub_auth.state_cookie_name, path=self.hub_auth.cookie_path)
        self._set_cookie(request, response, self.hub_auth.cookie_name, self._sign(token))
        return response

    def logout(self, request: Request, then: str) -> Response:
        """``GET {prefix}logout``: delete this service's cookies and forget their token in every replica's cache,
        then go to the hub's logout. Without it, the cookie outlived the hub's logout, and the hub's answer about
        its token was kept up to a minute: a second member on a shared phone saw the first one's portal."""
        token = self._unsign(request.cookies.get(self.hub_auth.cookie_name, ""))
        if token:
            self.tokens.forget(token)
        response = RedirectResponse(then, status_code=302)
        for name in (self.hub_auth.cookie_name, self.hub_auth.state_cookie_name):
            self._set_cookie(request, response, name, "", max_age=0, expires=0)
        return response

    def _set_cookie(self, request: Request, response: Response, name: str, value: str, **kwargs: Any) -> None:
        response.set_cookie(
            name,
            value,
            path=self.hub_auth.cookie_path,
            httponly=True,
            samesite="lax",
            secure=request_is_https(request) or self.hub_auth.cookie_host_prefix_enabled,
            **kwargs,
        )

    def _sign(self, token: str) -> str:
        # Signed so nobody can plant their own token in a member's browser (session fixation).
        mac = hmac.new(self._cookie_key, token.encode(), hashlib.sha256).digest()
        return f"{token}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"

    def _unsign(self, value: str) -> str | None:
        token, _, _mac = value.rpartition(".")
        return token if token and hmac.compare_digest(self._sign(token).encode(), value.encode()) else None

    def _seal(self, record: dict[str, Any]) -> str:
        """``record`` as a cookie value any replica can trust: base64 JSON and its HMAC (not secret: the browser
        holding it is the one logging in)."""
        return self._with_mac(base64.urlsafe_b64encode(json.dumps(record).encode()).decode().rstrip("="))

    def _unseal(self, value: str) -> dict[str, Any] | None:
        """The record of a sealed value, if its HMAC is ours and it has not expired; else ``None``."""
        payload, _, _mac = value.rpartition(".")
        if not payload or not hmac.compare_digest(self._with_mac(payload).encode(), value.encode()):
            return None
        record = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return record if isinstance(record, dict) and float(record.get("until", 0)) > time.time() else None

    def _with_mac(self, payload: str) -> str:
        mac = hmac.new(self._state_key, payload.encode(), hashlib.sha256).digest()
        return f"{payload}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
