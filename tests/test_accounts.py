"""Member accounts on SQLite and PostgreSQL: password login, throttling, activation codes, role grants, viewers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import accounts
from diemcau.adapters.db.accounts import (
    AccountError,
    LoginResult,
    activate,
    check_login,
    grant_role,
    issue_activation_code,
)
from diemcau.adapters.db.caller_lookup import load_caller_facts
from diemcau.adapters.db.models import LoginThrottleRow, MemberRow, RoleGrantRow
from diemcau.adapters.db.orgs import load_org_tree
from diemcau.adapters.db.roster_store import import_roster
from diemcau.core.credentials import LoginOutcome, ThrottlePolicy, refusal_key
from diemcau.core.roles import Grant, Role, can_manage_member, can_read_member
from diemcau.i18n import t
from tests.data_dirs import CHEAP

ORG_TREE = """\
units:
  - code: ht
    name: Đảng bộ tỉnh Hà Tĩnh
    kind: province
    children:
      - code: xa-a
        name: Đảng bộ xã A
        kind: commune
        children:
          - {code: cb-1, name: Chi bộ thôn 1, kind: cell}
          - {code: cb-10, name: Chi bộ thôn 10, kind: cell}
      - code: xa-b
        name: Đảng bộ xã B
        kind: commune
        children:
          - {code: cb-b, name: Chi bộ thôn B, kind: cell}
"""

ROSTER = """\
Số thẻ đảng viên,Họ và tên,Chi bộ
AB1001,Nguyễn Văn An,cb-1
1002,Trần Thị Bình,cb-1
1010,Lê Văn Cường,cb-10
2001,Phạm Thị Dung,cb-b
3001,Hoàng Văn Em,cb-b
"""

PASSWORD = "mat-khau-dung"
POLICY = ThrottlePolicy()
ADDRESS = "203.0.113.7"
VERIFIER = CHEAP
NOW = dt.datetime(2026, 3, 1, 8, 0, 0)
DAYS_14 = dt.timedelta(days=14)


@pytest.fixture
def factory(session_factory: sessionmaker[Session], tmp_path: Path) -> sessionmaker[Session]:
    """Five members in three cells; AB1001 and 1002 have a password, 3001 is inactive (with a password)."""
    (tmp_path / "orgs.yaml").write_text(ORG_TREE, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    load_org_tree(session_factory, tmp_path / "orgs.yaml")
    import_roster(session_factory, tmp_path / "roster.csv")
    for card in ("AB1001", "1002", "3001"):
        accounts.set_password(session_factory, card, PASSWORD, verifier=VERIFIER)
    with session_factory.begin() as session:
        session.execute(update(MemberRow).where(MemberRow.card_number == "3001").values(active=False))
    return session_factory


def member_state(factory: sessionmaker[Session], card: str) -> tuple[bool, bool]:
    """(has password, has activation code) as stored."""
    with factory() as session:
        row = session.scalars(select(MemberRow).where(MemberRow.card_number == card)).one()
        return row.password_hash is not None, row.activation_code_hash is not None


def throttle_counters(factory: sessionmaker[Session]) -> dict[tuple[str, str], int]:
    """Every stored throttle counter with failures: (scope, key) -> failures."""
    with factory() as session:
        rows = session.scalars(select(LoginThrottleRow).where(LoginThrottleRow.failures > 0))
        return {(row.scope, row.key): row.failures for row in rows}


def grants_of(factory: sessionmaker[Session], card: str) -> list[tuple[str, int | None]]:
    with factory() as session:
        query = select(RoleGrantRow.role, RoleGrantRow.org_unit_id).join(MemberRow).where(MemberRow.card_number == card)
        return sorted(((role, unit) for role, unit in session.execute(query)), key=str)


# --- check_login -------------------------------------------------------------------------------------------


def login(factory: sessionmaker[Session], card: str, password: str, now: dt.datetime = NOW) -> LoginResult:
    return check_login(factory, card, password, address=ADDRESS, policy=POLICY, verifier=VERIFIER, now=now)


def activate_as(
    factory: sessionmaker[Session], card: str, code: str, password: str, now: dt.datetime | None = None
) -> accounts.Account:
    return activate(factory, card, code, password, 8, address=ADDRESS, policy=POLICY, verifier=VERIFIER, now=now)


def test_unknown_card_is_unknown_user(factory: sessionmaker[Session]) -> None:
    """Is a card number nobody holds refused as an unknown user, with no account?"""
    assert login(factory, "999999", PASSWORD) == LoginResult(LoginOutcome.UNKNOWN_USER)


def test_inactive_member_cannot_log_in(factory: sessionmaker[Session]) -> None:
    """Is a deactivated member refused as inactive even with the right password?"""
    assert login(factory, "3001", PASSWORD) == LoginResult(LoginOutcome.INACTIVE)


def test_member_without_password_is_not_activated(factory: sessionmaker[Session]) -> None:
    """Is a member who never set a password refused as not activated (the log says so; the member sees the one
    message every refusal gets)?"""
    assert login(factory, "1010", "anything") == LoginResult(LoginOutcome.NOT_ACTIVATED)
    assert refusal_key(LoginOutcome.NOT_ACTIVATED) == refusal_key(LoginOutcome.WRONG_PASSWORD) == "failed"


def test_wrong_password_is_refused(factory: sessionmaker[Session]) -> None:
    """Is a wrong password refused with no account?"""
    assert login(factory, "1002", "sai") == LoginResult(LoginOutcome.WRONG_PASSWORD)


def test_right_password_returns_the_account(factory: sessionmaker[Session]) -> None:
    """Does the right password give the account with its org units root-down and its roles?"""
    grant_role(factory, "1002", Role.SECRETARY, "cb-1")
    login(factory, "1002", "sai")
    result = login(factory, "1002", PASSWORD)
    assert result.outcome is LoginOutcome.OK
    account = result.account
    assert account is not None
    assert account.username == "1002"
    assert account.full_name == "Trần Thị Bình"
    assert account.org_codes == ("ht", "xa-a", "cb-1")
    assert account.roles == (Role.MEMBER, Role.SECRETARY)
    assert not account.is_admin


def test_card_number_is_case_and_space_insensitive(factory: sessionmaker[Session]) -> None:
    """Does a card with letters log in typed in lowercase or with spaces, under a lowercase username?"""
    for typed in ("ab1001", "AB1001", " Ab 1001 "):
        result = login(factory, typed, PASSWORD)
        assert result.outcome is LoginOutcome.OK
        assert result.account is not None and result.account.username == "ab1001"


def test_admin_account_is_admin(factory: sessionmaker[Session]) -> None:
    """Does a global admin grant show in the account's roles?"""
    grant_role(factory, "AB1001", Role.ADMIN, None)
    account = login(factory, "AB1001", PASSWORD).account
    assert account is not None and account.is_admin
    assert account.roles == (Role.MEMBER, Role.ADMIN)


# --- throttling (more in test_login_throttle.py) -----------------------------------------------------------


def fail_until_throttled(factory: sessionmaker[Session], card: str) -> LoginResult:
    """Wrong passwords from ``ADDRESS`` at ``NOW`` until one is told to wait; that answer."""
    for _ in range(POLICY.pair.free + 1):
        result = login(factory, card, "sai")
        if result.outcome is LoginOutcome.THROTTLED:
            return result
    raise AssertionError("never throttled")


def test_repeated_failures_make_the_address_wait_even_with_the_right_password(factory: sessionmaker[Session]) -> None:
    """Once an address has failed ``free`` times on an account, is its next attempt, even the right password, told
    to wait (and not checked), until the wait is over?"""
    throttled = fail_until_throttled(factory, "1002")
    assert throttled.wait == POLICY.pair.first
    assert login(factory, "1002", PASSWORD).outcome is LoginOutcome.THROTTLED
    assert login(factory, "1002", PASSWORD, NOW + throttled.wait).outcome is LoginOutcome.OK


def test_unlock_lifts_the_wait(factory: sessionmaker[Session]) -> None:
    """Does an operator's unlock let the member in before the wait is over?"""
    fail_until_throttled(factory, "1002")
    accounts.unlock(factory, "1002")
    assert login(factory, "1002", PASSWORD).outcome is LoginOutcome.OK


# --- activation --------------------------------------------------------------------------------------------


def test_activation_sets_the_password_and_spends_the_code(factory: sessionmaker[Session]) -> None:
    """Does a valid code, typed in lowercase with a dash, set the password once and then stop working?"""
    code = issue_activation_code(factory, "1010", DAYS_14, verifier=VERIFIER)
    typed = f"{code[:4].lower()}-{code[4:].lower()}"
    account = activate_as(factory, "1010", typed, "mat-khau-moi")
    assert account.username == "1010"
    assert account.org_codes == ("ht", "xa-a", "cb-10")
    assert member_state(factory, "1010") == (True, False)
    assert login(factory, "1010", "mat-khau-moi").outcome is LoginOutcome.OK
    with pytest.raises(AccountError) as caught:
        activate_as(factory, "1010", code, "mat-khau-khac")
    assert caught.value.code == "activation_code_used"
    assert login(factory, "1010", "mat-khau-moi").outcome is LoginOutcome.OK


def test_reusing_a_spent_code_says_it_was_used_but_only_to_its_holder(factory: sessionmaker[Session]) -> None:
    """A member who activated and types the same code again (a second tab, the demo's printed code) is told the
    code was used and the account is active, not that there is no code; is any other code on that account, the
    spent code on another card, or on the account after a reset and a new code, still refused as it was, so
    nobody without the code learns the account is active?"""
    code = issue_activation_code(factory, "1010", DAYS_14, verifier=VERIFIER)
    activate_as(factory, "1010", code, "mat-khau-moi")
    refusals = []
    for card, typed in (("1010", code.lower()), ("1010", "ABCD2345"), ("1002", code), ("999999", code)):
        with pytest.raises(AccountError) as caught:
            activate_as(factory, card, typed, "mat-khau-khac")
        refusals.append(caught.value.code)
    assert refusals == ["activation_code_used", "activation_failed", "activation_failed", "activation_failed"]
    assert t("login.activation_code_used").startswith("Mã kích hoạt này đã được dùng")
    new = issue_activation_code(factory, "1010", DAYS_14, reset_password=True, verifier=VERIFIER)
    with pytest.raises(AccountError) as caught:
        activate_as(factory, "1010", code, "mat-khau-khac")
    assert caught.value.code == "activation_failed"  # reset: the account is no longer activated
    activate_as(factory, "1010", new, "mat-khau-khac")
    assert login(factory, "1010", "mat-khau-khac").outcome is LoginOutcome.OK


def test_new_code_replaces_the_old_one(factory: sessionmaker[Session]) -> None:
    """Is an earlier code useless once a new one is issued?"""
    old = issue_activation_code(factory, "1010", DAYS_14, verifier=VERIFIER)
    new = issue_activation_code(factory, "1010", DAYS_14, verifier=VERIFIER)
    assert old != new
    with pytest.raises(AccountError) as caught:
        activate_as(factory, "1010", old, "mat-khau-moi")
    assert caught.value.code == "activation_failed"
    activate_as(factory, "1010", new, "mat-khau-moi")


def test_wrong_codes_are_throttled_like_passwords(factory: sessionmaker[Session]) -> None:
    """Do wrong activation codes count like wrong passwords, so that guessing codes is told to wait (the right
    code too, without being checked), and does the still-valid code work once the wait is over?"""
    code = issue_activation_code(factory, "1010", DAYS_14, verifier=VERIFIER)
    now = accounts.utcnow()
    errors = []
    for _ in range(POLICY.pair.free + 1):
        with pytest.raises(AccountError) as caught:
            activate_as(factory, "1010", "WRONG222", "mat-khau-moi", now=now)
        errors.append(caught.value.code)
    assert errors == ["activation_failed"] * POLICY.pair.free + ["throttled"]
    with pytest.raises(AccountError) as caught:
        activate_as(factory, "1010", code, "mat-khau-moi", now=now)
    assert caught.value.code == "throttled" and caught.value.wait == POLICY.pair.first
    assert member_state(factory, "1010")[0] is False  # no password was set
    activate_as(factory, "1010", code, "mat-khau-moi", now=now + caught.value.wait)


def test_expired_code_is_refused(factory: sessionmaker[Session]) -> None:
    """Is a right code refused as expired after its validity, leaving the member without a password?"""
    code = issue_activation_code(factory, "1010", DAYS_14, verifier=VERIFIER)
    later = accounts.utcnow() + DAYS_14 + dt.timedelta(minutes=1)
    with pytest.raises(AccountError) as caught:
        activate_as(factory, "1010", code, "mat-khau-moi", now=later)
    assert caught.value.code == "activation_code_expired"
    assert member_state(factory, "1010") == (False, True)


def test_too_short_password_is_refused_and_keeps_the_code(factory: sessionmaker[Session]) -> None:
    """Is a password shorter than the minimum refused without spending the code or counting a failure?"""
    code = issue_activation_code(factory, "1010", DAYS_14, verifier=VERIFIER)
    with pytest.raises(AccountError) as caught:
        activate_as(factory, "1010", code, "ngan")
    assert caught.value.code == "password_too_short"
    assert member_state(factory, "1010") == (False, True)
    assert throttle_counters(factory) == {}
    activate_as(factory, "1010", code, "du-dai-roi")


def test_activation_for_unknown_or_inactive_member(factory: sessionmaker[Session]) -> None:
    """Is a code refused to an operator for an unknown card, and are activations for an unknown card, an inactive
    member, a member without a code and a wrong code all refused alike, so activation tells no stranger which
    cards exist?"""
    with pytest.raises(AccountError) as caught:
        issue_activation_code(factory, "999999", DAYS_14, verifier=VERIFIER)
    assert caught.value.code == "unknown_user"
    code = issue_activation_code(factory, "3001", DAYS_14, verifier=VERIFIER)
    issue_activation_code(factory, "1002", DAYS_14, verifier=VERIFIER)
    codes = []
    for card, typed in (("999999", code), ("3001", code), ("1010", "ABCD2345"), ("1002", "ABCD2345")):
        with pytest.raises(AccountError) as caught:
            activate_as(factory, card, typed, "mat-khau-moi")
        codes.append(caught.value.code)
    assert codes == ["activation_failed"] * 4


def test_reset_password_clears_the_password(factory: sessionmaker[Session]) -> None:
    """Does a reset clear the old password (login refused as not activated) and lift the account's wait, until
    reactivation?"""
    fail_until_throttled(factory, "1002")
    code = issue_activation_code(factory, "1002", DAYS_14, reset_password=True, verifier=VERIFIER)
    assert member_state(factory, "1002") == (False, True)
    assert login(factory, "1002", PASSWORD).outcome is LoginOutcome.NOT_ACTIVATED
    activate_as(factory, "1002", code, "mat-khau-moi", now=NOW)
    assert login(factory, "1002", PASSWORD).outcome is LoginOutcome.WRONG_PASSWORD
    assert login(factory, "1002", "mat-khau-moi").outcome is LoginOutcome.OK


def test_code_without_reset_keeps_the_password(factory: sessionmaker[Session]) -> None:
    """Does issuing a code without a reset leave the current password working?"""
    issue_activation_code(factory, "1002", DAYS_14, verifier=VERIFIER)
    assert login(factory, "1002", PASSWORD).outcome is LoginOutcome.OK


# --- grants and viewers ------------------------------------------------------------------------------------


def test_grant_role_is_idempotent(factory: sessionmaker[Session]) -> None:
    """Does granting the same role over the same unit twice store one grant, while another scope adds one?"""
    grant_role(factory, "1002", Role.SECRETARY, "cb-1")
    grant_role(factory, "1002", Role.SECRETARY, "cb-1")
    assert len(grants_of(factory, "1002")) == 1
    grant_role(factory, "1002", Role.SECRETARY, "cb-10")
    grant_role(factory, "1002", Role.ADMIN, None)
    grant_role(factory, "1002", Role.ADMIN, None)
    assert len(grants_of(factory, "1002")) == 3


def test_grant_over_unknown_unit_or_to_unknown_member(factory: sessionmaker[Session]) -> None:
    """Is a grant over a unit that does not exist, or to an unknown card, refused without writing anything?"""
    with pytest.raises(AccountError) as caught:
        grant_role(factory, "1002", Role.SECRETARY, "khong-co")
    assert caught.value.code == "unknown_org_unit"
    assert grants_of(factory, "1002") == []
    with pytest.raises(AccountError) as caught:
        grant_role(factory, "999999", Role.ADMIN, None)
    assert caught.value.code == "unknown_user"


def test_viewer_scopes(factory: sessionmaker[Session]) -> None:
    """Does a member's viewer carry their unit path and grants scoped to unit paths (None for global)?"""
    grant_role(factory, "1002", Role.SECRETARY, "cb-1")
    grant_role(factory, "2001", Role.COMMITTEE, "xa-a")
    grant_role(factory, "AB1001", Role.ADMIN, None)
    with factory() as session:
        secretary, committee, admin, plain = (
            load_caller_facts(session, card).viewer  # type: ignore[union-attr]
            for card in ("1002", "2001", "ab1001", "1010")
        )

    assert secretary.username == "1002" and secretary.org_path == "/ht/xa-a/cb-1/"
    assert secretary.grants == (Grant(Role.SECRETARY, "/ht/xa-a/cb-1/"),)
    assert can_manage_member(secretary, "/ht/xa-a/cb-1/")
    assert not can_manage_member(secretary, "/ht/xa-a/cb-10/")

    assert committee.org_path == "/ht/xa-b/cb-b/"
    assert committee.oversight_paths() == ["/ht/xa-a/"]
    assert can_read_member(committee, "1010", "/ht/xa-a/cb-10/")
    assert not can_read_member(committee, "3001", "/ht/xa-b/cb-b/")

    assert admin.username == "ab1001"
    assert admin.grants == (Grant(Role.ADMIN, None),)
    assert admin.oversight_paths() == ["/"]

    assert plain.grants == () and plain.oversight_paths() == []
