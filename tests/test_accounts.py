"""Member accounts on SQLite and PostgreSQL: password login, lockout, activation codes, role grants, viewers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import accounts
from diemcau.adapters.db.accounts import AccountError, activate, check_login, grant_role, issue_activation_code
from diemcau.adapters.db.caller_lookup import load_caller_facts
from diemcau.adapters.db.models import MemberRow, RoleGrantRow
from diemcau.adapters.db.orgs import load_org_tree
from diemcau.adapters.db.roster_store import import_roster
from diemcau.core.credentials import LockoutPolicy, LoginOutcome
from diemcau.core.roles import Grant, Role, can_manage_member, can_read_member

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
POLICY = LockoutPolicy(max_failed=3, lockout=dt.timedelta(minutes=15))
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
        accounts.set_password(session_factory, card, PASSWORD)
    with session_factory.begin() as session:
        session.execute(update(MemberRow).where(MemberRow.card_number == "3001").values(active=False))
    return session_factory


def member_state(factory: sessionmaker[Session], card: str) -> tuple[int, dt.datetime | None, bool, bool]:
    """(failed logins, locked until, has password, has activation code) as stored."""
    with factory() as session:
        row = session.scalars(select(MemberRow).where(MemberRow.card_number == card)).one()
        return row.failed_logins, row.locked_until, row.password_hash is not None, row.activation_code_hash is not None


def grants_of(factory: sessionmaker[Session], card: str) -> list[tuple[str, int | None]]:
    with factory() as session:
        query = select(RoleGrantRow.role, RoleGrantRow.org_unit_id).join(MemberRow).where(MemberRow.card_number == card)
        return sorted(((role, unit) for role, unit in session.execute(query)), key=str)


# --- check_login -------------------------------------------------------------------------------------------


def test_unknown_card_is_unknown_user(factory: sessionmaker[Session]) -> None:
    """Is a card number nobody holds reported as an unknown user, with no account?"""
    assert check_login(factory, "999999", PASSWORD, POLICY, NOW) == (LoginOutcome.UNKNOWN_USER, None)


def test_inactive_member_cannot_log_in(factory: sessionmaker[Session]) -> None:
    """Is a deactivated member refused as inactive even with the right password?"""
    assert check_login(factory, "3001", PASSWORD, POLICY, NOW) == (LoginOutcome.INACTIVE, None)


def test_member_without_password_is_not_activated(factory: sessionmaker[Session]) -> None:
    """Is a member who never set a password told to activate, without counting a failure?"""
    assert check_login(factory, "1010", "anything", POLICY, NOW) == (LoginOutcome.NOT_ACTIVATED, None)
    assert member_state(factory, "1010")[0] == 0


def test_wrong_password_counts_a_failure(factory: sessionmaker[Session]) -> None:
    """Is a wrong password refused and counted?"""
    assert check_login(factory, "1002", "sai", POLICY, NOW) == (LoginOutcome.WRONG_PASSWORD, None)
    assert member_state(factory, "1002")[:2] == (1, None)


def test_right_password_returns_the_account(factory: sessionmaker[Session]) -> None:
    """Does the right password give the account with its org units root-down and its roles, and clear failures?"""
    grant_role(factory, "1002", Role.SECRETARY, "cb-1")
    check_login(factory, "1002", "sai", POLICY, NOW)
    outcome, account = check_login(factory, "1002", PASSWORD, POLICY, NOW)
    assert outcome is LoginOutcome.OK
    assert account is not None
    assert account.username == "1002"
    assert account.full_name == "Trần Thị Bình"
    assert account.org_codes == ("ht", "xa-a", "cb-1")
    assert account.roles == (Role.MEMBER, Role.SECRETARY)
    assert not account.is_admin
    assert member_state(factory, "1002")[:2] == (0, None)


def test_card_number_is_case_and_space_insensitive(factory: sessionmaker[Session]) -> None:
    """Does a card with letters log in typed in lowercase or with spaces, under a lowercase username?"""
    for typed in ("ab1001", "AB1001", " Ab 1001 "):
        outcome, account = check_login(factory, typed, PASSWORD, POLICY, NOW)
        assert outcome is LoginOutcome.OK
        assert account is not None and account.username == "ab1001"


def test_admin_account_is_admin(factory: sessionmaker[Session]) -> None:
    """Does a global admin grant show in the account's roles?"""
    grant_role(factory, "AB1001", Role.ADMIN, None)
    _, account = check_login(factory, "AB1001", PASSWORD, POLICY, NOW)
    assert account is not None and account.is_admin
    assert account.roles == (Role.MEMBER, Role.ADMIN)


# --- lockout -----------------------------------------------------------------------------------------------


def test_max_failures_lock_the_account(factory: sessionmaker[Session]) -> None:
    """Does the last allowed wrong password lock the account, which then refuses even the right password?"""
    outcomes = [check_login(factory, "1002", "sai", POLICY, NOW)[0] for _ in range(POLICY.max_failed)]
    assert outcomes == [LoginOutcome.WRONG_PASSWORD] * (POLICY.max_failed - 1) + [LoginOutcome.LOCKED]
    assert member_state(factory, "1002")[1] == NOW + POLICY.lockout
    later = NOW + dt.timedelta(minutes=14)
    assert check_login(factory, "1002", PASSWORD, POLICY, later) == (LoginOutcome.LOCKED, None)


def test_lock_expires(factory: sessionmaker[Session]) -> None:
    """Does the right password work again once the lockout period has passed?"""
    for _ in range(POLICY.max_failed):
        check_login(factory, "1002", "sai", POLICY, NOW)
    outcome, account = check_login(factory, "1002", PASSWORD, POLICY, NOW + POLICY.lockout)
    assert outcome is LoginOutcome.OK and account is not None
    assert member_state(factory, "1002")[:2] == (0, None)


def test_unlock_lifts_the_lock(factory: sessionmaker[Session]) -> None:
    """Does an operator's unlock let the member in before the lock expires?"""
    for _ in range(POLICY.max_failed):
        check_login(factory, "1002", "sai", POLICY, NOW)
    accounts.unlock(factory, "1002")
    assert check_login(factory, "1002", PASSWORD, POLICY, NOW)[0] is LoginOutcome.OK


# --- activation --------------------------------------------------------------------------------------------


def test_activation_sets_the_password_and_spends_the_code(factory: sessionmaker[Session]) -> None:
    """Does a valid code, typed in lowercase with a dash, set the password once and then stop working?"""
    code = issue_activation_code(factory, "1010", DAYS_14)
    typed = f"{code[:4].lower()}-{code[4:].lower()}"
    account = activate(factory, "1010", typed, "mat-khau-moi", POLICY, min_length=8)
    assert account.username == "1010"
    assert account.org_codes == ("ht", "xa-a", "cb-10")
    assert member_state(factory, "1010") == (0, None, True, False)
    assert check_login(factory, "1010", "mat-khau-moi", POLICY)[0] is LoginOutcome.OK
    with pytest.raises(AccountError) as caught:
        activate(factory, "1010", code, "mat-khau-khac", POLICY, min_length=8)
    assert caught.value.code == "no_activation_code"
    assert check_login(factory, "1010", "mat-khau-moi", POLICY)[0] is LoginOutcome.OK


def test_new_code_replaces_the_old_one(factory: sessionmaker[Session]) -> None:
    """Is an earlier code useless once a new one is issued?"""
    old = issue_activation_code(factory, "1010", DAYS_14)
    new = issue_activation_code(factory, "1010", DAYS_14)
    assert old != new
    with pytest.raises(AccountError) as caught:
        activate(factory, "1010", old, "mat-khau-moi", POLICY, min_length=8)
    assert caught.value.code == "wrong_activation_code"
    activate(factory, "1010", new, "mat-khau-moi", POLICY, min_length=8)


def test_wrong_codes_count_toward_lockout(factory: sessionmaker[Session]) -> None:
    """Do wrong activation codes count as failures, lock the account, and then refuse the right code?"""
    code = issue_activation_code(factory, "1010", DAYS_14)
    now = accounts.utcnow()
    errors = []
    for _ in range(POLICY.max_failed):
        with pytest.raises(AccountError) as caught:
            activate(factory, "1010", "WRONG222", "mat-khau-moi", POLICY, min_length=8, now=now)
        errors.append(caught.value.code)
    assert errors == ["wrong_activation_code"] * (POLICY.max_failed - 1) + ["locked"]
    with pytest.raises(AccountError) as caught:
        activate(factory, "1010", code, "mat-khau-moi", POLICY, min_length=8, now=now)
    assert caught.value.code == "locked"
    assert member_state(factory, "1010")[2] is False  # no password was set
    # After the lock expires the still-valid code works.
    activate(factory, "1010", code, "mat-khau-moi", POLICY, min_length=8, now=now + POLICY.lockout)


def test_expired_code_is_refused(factory: sessionmaker[Session]) -> None:
    """Is a right code refused as expired after its validity, leaving the member without a password?"""
    code = issue_activation_code(factory, "1010", DAYS_14)
    later = accounts.utcnow() + DAYS_14 + dt.timedelta(minutes=1)
    with pytest.raises(AccountError) as caught:
        activate(factory, "1010", code, "mat-khau-moi", POLICY, min_length=8, now=later)
    assert caught.value.code == "activation_code_expired"
    assert member_state(factory, "1010") == (0, None, False, True)


def test_too_short_password_is_refused_and_keeps_the_code(factory: sessionmaker[Session]) -> None:
    """Is a password shorter than the minimum refused without spending the code or counting a failure?"""
    code = issue_activation_code(factory, "1010", DAYS_14)
    with pytest.raises(AccountError) as caught:
        activate(factory, "1010", code, "ngan", POLICY, min_length=8)
    assert caught.value.code == "password_too_short"
    assert member_state(factory, "1010") == (0, None, False, True)
    activate(factory, "1010", code, "du-dai-roi", POLICY, min_length=8)


def test_activation_for_unknown_or_inactive_member(factory: sessionmaker[Session]) -> None:
    """Are activations and codes for unknown cards, and activations for inactive members, refused as unknown?"""
    with pytest.raises(AccountError) as caught:
        issue_activation_code(factory, "999999", DAYS_14)
    assert caught.value.code == "unknown_user"
    code = issue_activation_code(factory, "3001", DAYS_14)
    with pytest.raises(AccountError) as caught:
        activate(factory, "3001", code, "mat-khau-moi", POLICY, min_length=8)
    assert caught.value.code == "unknown_user"


def test_member_without_code_cannot_activate(factory: sessionmaker[Session]) -> None:
    """Is activation refused when no code was ever issued?"""
    with pytest.raises(AccountError) as caught:
        activate(factory, "1010", "ABCD2345", "mat-khau-moi", POLICY, min_length=8)
    assert caught.value.code == "no_activation_code"


def test_reset_password_clears_the_password(factory: sessionmaker[Session]) -> None:
    """Does a reset clear the old password (login says not activated) and lift a lockout, until reactivation?"""
    for _ in range(POLICY.max_failed):
        check_login(factory, "1002", "sai", POLICY)
    code = issue_activation_code(factory, "1002", DAYS_14, reset_password=True)
    assert member_state(factory, "1002") == (0, None, False, True)
    assert check_login(factory, "1002", PASSWORD, POLICY)[0] is LoginOutcome.NOT_ACTIVATED
    activate(factory, "1002", code, "mat-khau-moi", POLICY, min_length=8)
    assert check_login(factory, "1002", PASSWORD, POLICY)[0] is LoginOutcome.WRONG_PASSWORD
    assert check_login(factory, "1002", "mat-khau-moi", POLICY)[0] is LoginOutcome.OK


def test_code_without_reset_keeps_the_password(factory: sessionmaker[Session]) -> None:
    """Does issuing a code without a reset leave the current password working?"""
    issue_activation_code(factory, "1002", DAYS_14)
    assert check_login(factory, "1002", PASSWORD, POLICY)[0] is LoginOutcome.OK


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
