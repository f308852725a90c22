"""A JupyterHub Authenticator backed by the roster: members are provisioned, never self-registered.

Login failures raise ``HTTPError``, which JupyterHub renders inside the login form as a Vietnamese instruction.
A refused login says only that the card number or password is wrong, or how long to wait (``refusal_key``);
the log keeps the real reason for operators.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from functools import cached_property

from jupyterhub.auth import Authenticator
from jupyterhub.handlers import BaseHandler
from sqlalchemy.orm import Session, sessionmaker
from tornado import web
from tornado.httputil import HTTPServerRequest
from traitlets import Integer, List, Unicode, default, validate

from diemcau.adapters.db import accounts, login_throttle
from diemcau.adapters.db.engine import make_engine, make_sessionmaker
from diemcau.adapters.passwords import SecretVerifier
from diemcau.core.credentials import (
    LoginOutcome,
    ThrottlePolicy,
    client_address,
    parse_networks,
    refusal_key,
    throttle_policy,
    wait_seconds,
)
from diemcau.i18n import t

PRUNE_EVERY_SECONDS = 600.0


def hub_groups(account: accounts.Account) -> list[str]:
    """The hub groups mirroring a member's place in the tree and their roles (``org-<code>``, ``role-<role>``)."""
    return [f"org-{code}" for code in account.org_codes] + [f"role-{role}" for role in account.roles]


def peer_of(request: HTTPServerRequest) -> str:
    """The address at the other end of the connection, before Tornado's ``xheaders`` replaced ``remote_ip``
    with whatever ``X-Forwarded-For`` claims."""
    address = getattr(getattr(request.connection, "context", None), "address", None)
    if isinstance(address, tuple) and address:
        return str(address[0])
    return request.remote_ip or ""


class RosterAuthenticator(Authenticator):
    """Password login for members of the roster, with activation codes and throttled guessing."""

    database_url = Unicode(help="SQLAlchemy URL of the Điểm Cầu database holding the roster.").tag(config=True)
    min_password_length = Integer(8, help="Shortest password a member may choose.").tag(config=True)
    free_failures = Integer(
        5, help="Failed attempts on one account from one address before that address must wait."
    ).tag(config=True)
    account_free_failures = Integer(
        30, help="Failed attempts on one account from all addresses before every attempt on it must wait."
    ).tag(config=True)
    address_free_failures = Integer(
        20, help="Failed attempts from one address, on any accounts, before that address must wait."
    ).tag(config=True)
    max_wait_seconds = Integer(60, help="Longest wait an account's throttle imposes.").tag(config=True)
    address_max_wait_seconds = Integer(600, help="Longest wait an address's own throttle imposes.").tag(config=True)
    forget_after_minutes = Integer(60, help="Failures are forgotten this long after the last one.").tag(config=True)
    trusted_proxies = List(
        Unicode(),
        ["127.0.0.1", "::1"],
        help="Addresses or networks of proxies whose X-Forwarded-For is believed (configurable-http-proxy on "
        "loopback by default); the client is the right-most address not among them.",
    ).tag(config=True)

    argon2_time_cost = Integer(3, help="Argon2id passes per hash (auth.argon2_time_cost).").tag(config=True)
    argon2_memory_kib = Integer(65536, help="Argon2id memory per hash in KiB (auth.argon2_memory_kib).").tag(
        config=True
    )
    argon2_parallelism = Integer(4, help="Argon2id lanes per hash (auth.argon2_parallelism).").tag(config=True)

    @validate("trusted_proxies")
    def _valid_proxies(self, proposal: dict) -> list[str]:
        parse_networks(proposal["value"])  # a typo must stop the hub, not trust nobody (or everybody) silently
        return proposal["value"]

    @default("manage_groups")
    def _default_manage_groups(self) -> bool:
        return True

    @default("allow_all")
    def _default_allow_all(self) -> bool:
        # Everyone in the roster may log in; the roster itself is the allow list.
        return True

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_sessionmaker(make_engine(self.database_url))

    @cached_property
    def verifier(self) -> SecretVerifier:
        """One verifier per hub process, at the configured cost: its dummy hash is made once."""
        return SecretVerifier(self.argon2_time_cost, self.argon2_memory_kib, self.argon2_parallelism)

    @cached_property
    def policy(self) -> ThrottlePolicy:
        return throttle_policy(
            self.free_failures,
            self.account_free_failures,
            self.address_free_failures,
            self.max_wait_seconds,
            self.address_max_wait_seconds,
            self.forget_after_minutes,
        )

    @cached_property
    def _trusted(self) -> tuple:
        return parse_networks(self.trusted_proxies)

    _next_prune: float = 0.0

    def client_address(self, request: HTTPServerRequest) -> str:
        """Where the attempt came from, believing X-Forwarded-For only from the trusted proxies."""
        return client_address(peer_of(request), request.headers.get_list("X-Forwarded-For"), self._trusted)

    def normalize_username(self, username: str) -> str:
        return accounts.normalise_username(username)

    def failure_message(self, code: str, wait: dt.timedelta = dt.timedelta(0)) -> str:
        """The Vietnamese message for a failed login or activation."""
        return t(f"login.{code}", seconds=wait_seconds(wait), min_length=self.min_password_length)

    def auth_model(self, account: accounts.Account) -> dict:
        """What the hub stores: the name, admin flag and the groups that mirror the tree and roles."""
        return {"name": account.username, "admin": account.is_admin, "groups": hub_groups(account)}

    async def prune_if_due(self) -> None:
        """Now and then, drop throttle counters that are forgotten anyway (unknown card numbers pile up)."""
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            await asyncio.to_thread(login_throttle.prune, self.session_factory, self.policy, accounts.utcnow())

    async def authenticate(self, handler: web.RequestHandler, data: dict) -> dict:
        username, password = data.get("username", ""), data.get("password", "")
        address = self.client_address(handler.request)
        await self.prune_if_due()
        result = await asyncio.to_thread(
            accounts.check_login,
            self.session_factory,
            username,
            password,
            address=address,
            policy=self.policy,
            verifier=self.verifier,
        )
        if result.outcome != LoginOutcome.OK or result.account is None:
            self.log.info("Login refused for %r from %s: %s", username[:32], address, result.outcome)
            status = 429 if result.outcome == LoginOutcome.THROTTLED else 403
            raise web.HTTPError(status, self.failure_message(refusal_key(result.outcome), result.wait))
        return self.auth_model(result.account)

    def get_handlers(self, app) -> list[tuple[str, type]]:  # type: ignore[no-untyped-def]
        return [(r"/activate", ActivationHandler)]


class ActivationHandler(BaseHandler):
    """First login (or after a reset): card number + one-time code + a new password, then signed in."""

    @property
    def roster(self) -> RosterAuthenticator:
        return self.authenticator  # type: ignore[return-value]

    async def _render(self, error: str = "", username: str = "", status: int = 200) -> None:
        self.set_status(status)
        html = await self.render_template(
            "activate.html",
            error=error,
            username=username,
            xsrf=self.xsrf_token.decode("ascii"),
            next=self.get_argument("next", ""),
        )
        self.finish(html)

    async def get(self) -> None:
        await self._render(username=self.get_argument("username", ""))

    async def post(self) -> None:
        username = self.get_argument("username", "", strip=True)
        code = self.get_argument("code", "", strip=True)
        password = self.get_argument("password", "")
        if password != self.get_argument("confirm", ""):
            return await self._render(self.roster.failure_message("password_mismatch"), username, 400)
        address = self.roster.client_address(self.request)
        try:
            account = await asyncio.to_thread(
                accounts.activate,
                self.roster.session_factory,
                username,
                code,
                password,
                self.roster.min_password_length,
                address=address,
                policy=self.roster.policy,
                verifier=self.roster.verifier,
            )
        except accounts.AccountError as error:
            self.log.info("Activation refused for %r from %s: %s", username[:32], address, error.code)
            status = 429 if error.code == "throttled" else 403
            return await self._render(self.roster.failure_message(error.code, error.wait), username, status)
        user = await self.auth_to_user(self.roster.auth_model(account))
        self.set_login_cookie(user)
        self.redirect(self.get_next_url(user))
