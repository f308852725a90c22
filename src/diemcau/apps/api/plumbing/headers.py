"""Security headers on every response of the API service: one pure-ASGI middleware, added last in ``create_app``.

* ``Content-Security-Policy`` — scripts only from the service itself (``/static/…``: hls.js, ``quiz.js``,
  ``quiz_grading.js``) plus the player's inlined ``player.js``, allowed by its SHA-256 (it is inlined to save a
  round trip on slow links, see ``player.player_script``); no other inline script, no ``eval``. Styles may be
  inline (every page carries its few lines of CSS; CSS cannot run script). ``media-src``/``worker-src`` allow
  ``blob:`` for hls.js (MediaSource and its transmuxing worker). ``frame-ancestors 'none'``: no page can be
  framed (clickjacking). ``object-src``/``base-uri`` ``'none'``; forms post only to this origin.
* ``X-Content-Type-Options: nosniff`` — a browser never runs a file as another type than the one declared.
* ``Referrer-Policy: same-origin`` — lecture ids and search words in URLs never leave for another site.
* ``X-Frame-Options: DENY`` — ``frame-ancestors`` for browsers too old to know CSP level 2.

A response that sets its own ``Content-Security-Policy`` keeps it: a material shown inline answers with
``sandbox`` (``materials.py``). Responses of Starlette's last-resort 500 handler are outside this middleware.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "content-security-policy"


def script_hash(source: str) -> str:
    """The CSP source expression that allows an inline script whose text is exactly ``source``."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(inline_script_hashes: Iterable[str] = ()) -> str:
    """The service's policy; ``inline_script_hashes`` (from ``script_hash``) are the inline scripts it serves."""
    scripts = " ".join(("'self'", *inline_script_hashes))
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "media-src 'self' blob:",
            "worker-src 'self' blob:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def security_headers(policy: str) -> list[tuple[bytes, bytes]]:
    """The headers every response carries (raw ASGI pairs)."""
    return [
        (CSP.encode(), policy.encode("ascii")),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
    ]


class SecurityHeaders:
    """Adds ``security_headers`` to each HTTP response; a header the response already has is left as it is."""

    def __init__(self, app: ASGIApp, policy: str) -> None:
        self.app = app
        self.headers = security_headers(policy)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                extra = [pair for pair in self.headers if pair[0] not in present]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
