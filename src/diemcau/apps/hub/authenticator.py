"""A JupyterHub Authenticator backed by the roster: members are provisioned, never self-registered.

Login failures raise ``HTTPError(403, message)``, which JupyterHub renders inside the login form, so each
failure (unknown card, wrong password, locked, not yet activated) reads as a Vietnamese instruction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from functools import cached_property

from jupyterhub.auth import Authenticator
from jupyterhub.handlers import BaseHandler
from sqlalchemy.orm import Session, sessionmaker
from tornado import web
from traitlets import Integer, Unicode, default

from diemcau.adapters.db import accounts
from diemcau.adapters.db.engine import make_engine, make_sessionmaker
from diemcau.core.credentials import LockoutPolicy, LoginOutcome
from diemcau.i18n import t


def hub_groups(account: accounts.Account) -> list[str]:
    """The hub groups mirroring a member's place in the tree and their roles (``org-<code>``, ``role-<role>``)."""
    return [f"org-{code}" for code in account.org_codes] + [f"role-{role}" for role in account.roles]


class RosterAuthenticator(Authenticator):
    """Password login for members of the roster, with activation codes and lockout."""

    database_url = Unicode(help="SQLAlchemy URL of the Điểm Cầu database holding the roster.").tag(config=True)
    max_failed_logins = Integer(5, help="Failed logins in a row before the account locks.").tag(config=True)
    lockout_minutes = Integer(15, help="Minutes a locked account stays locked.").tag(config=True)
    min_password_length = Integer(8, help="Shortest password a member may choose.").tag(config=True)

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

    @property
    def policy(self) -> LockoutPolicy:
        return LockoutPolicy(self.max_failed_logins, dt.timedelta(minutes=self.lockout_minutes))

    def normalize_username(self, username: str) -> str:
        return accounts.normalise_username(username)

    def failure_message(self, code: str) -> str:
        """The Vietnamese message for a failed login or activation."""
        return t(f"login.{code}", minutes=self.lockout_minutes, min_length=self.min_password_length)

    def auth_model(self, account: accounts.Account) -> dict:
        """What the hub stores: the name, admin flag and the groups that mirror the tree and roles."""
        return {"name": account.username, "admin": account.is_admin, "groups": hub_groups(account)}

    async def authenticate(self, handler: web.RequestHandler, data: dict) -> dict:
        username, password = data.get("username", ""), data.get("password", "")
        outcome, account = await asyncio.to_thread(
            accounts.check_login, self.session_factory, username, password, self.policy
        )
        if outcome != LoginOutcome.OK or account is None:
            self.log.info("Login refused for %r: %s", username[:32], outcome)
            raise web.HTTPError(403, self.failure_message(str(outcome)))
        return self.auth_model(account)

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
            "activate.html", error=error, username=username, xsrf=self.xsrf_token.decode("ascii"),
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
        try:
            account = await asyncio.to_thread(
                accounts.activate, self.roster.session_factory, username, code, password,
                self.roster.policy, self.roster.min_password_length,
            )
        except accounts.AccountError as error:
            return await self._render(self.roster.failure_message(error.code), username, 403)
        user = await self.auth_to_user(self.roster.auth_model(account))
        self.set_login_cookie(user)
        self.redirect(self.get_next_url(user))
