"""``diemcau user``: member accounts — activation codes, resets, unlocking, roles."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Optional

import typer

from diemcau.adapters.db import accounts
from diemcau.adapters.passwords import SecretVerifier
from diemcau.apps.cli.common import factory_or_exit, fail
from diemcau.core.roles import Role

app = typer.Typer(help="Member accounts: activation codes, resets, roles.", no_args_is_help=True)


def _account_call(action, *args, **kwargs):  # type: ignore[no-untyped-def]
    try:
        return action(*args, **kwargs)
    except accounts.AccountError as error:
        fail(f"{error.code.replace('_', ' ')}: check the card number (or org unit code) and try again.")


@app.command("activation-code")
def user_activation_code(
    card: str, reset: Annotated[bool, typer.Option(help="Also clear the current password.")] = False
) -> None:
    """Issue a one-time activation code for a member's first login (or a password reset)."""
    settings, factory = factory_or_exit()
    days = settings.auth.activation_code_days
    verifier = SecretVerifier.from_settings(settings.auth)
    code = _account_call(
        accounts.issue_activation_code, factory, card, dt.timedelta(days=days), verifier=verifier, reset_password=reset
    )
    typer.echo(f"{code}  (valid {days} days; the member enters it at /hub/activate)")


@app.command("reset")
def user_reset(card: str) -> None:
    """Reset a member's password: clears it and issues a new activation code."""
    user_activation_code(card, reset=True)


@app.command("unlock")
def user_unlock(card: str) -> None:
    """Let a member try again at once after failed logins: clears the account's login throttle."""
    _, factory = factory_or_exit()
    _account_call(accounts.unlock, factory, card)
    typer.echo("unlocked")


@app.command("set-password")
def user_set_password(card: str, password: Annotated[str, typer.Option(prompt=True, hide_input=True)]) -> None:
    """Set a member's password directly (operators only)."""
    settings, factory = factory_or_exit()
    _account_call(accounts.set_password, factory, card, password, verifier=SecretVerifier.from_settings(settings.auth))
    typer.echo("password set")


@app.command("grant")
def user_grant(
    card: str,
    role: Role,
    org: Annotated[Optional[str], typer.Option(help="Org unit code the role covers; omit for everywhere.")] = None,  # noqa: UP007
) -> None:
    """Grant a role (trainer, secretary, committee, admin) over an org unit subtree."""
    _, factory = factory_or_exit()
    _account_call(accounts.grant_role, factory, card, role, org)
    typer.echo(f"{card}: {role.value} over {org or 'everything'}")
