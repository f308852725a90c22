"""System users for staff servers: the naming rule, private folders, the account itself (real useradd), and
who keeps terminals."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from diemcau.adapters.system_users import IsolationUnavailable, end_processes_of, ensure_system_user, make_private
from diemcau.apps.hub.spawner import terminal_args
from diemcau.core.system_user import MAX_LENGTH, system_username

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="creating system users needs root (CI runs as root)")


def test_a_card_number_keeps_its_name() -> None:
    """Does a card number map to jupyter-<card>, as an administrator would look for it?"""
    assert system_username("42000001", "jupyter-") == "jupyter-42000001"


def test_names_never_share_an_account() -> None:
    """Do hub names that a naive clean-up would merge (case, dots, @, underscores, the hashed form itself, long
    names with one prefix) get distinct valid Linux names of at most 32 characters?"""
    names = [
        "a-b",
        "A-b",
        "a.b",
        "a_b",
        "a@b",
        "nguyen.van.a@tinh.vn",
        "Nguyễn Văn A",
        "x" * 40,
        "x" * 41,
        "y" * 24,
        "y" * 25,
        "a-b_" + "0" * 12,
    ]
    names.append(system_username("a.b", "jupyter-").removeprefix("jupyter-"))  # a hub user named like a hashed one
    mapped = [system_username(name, "jupyter-") for name in names]
    assert len(set(mapped)) == len(names)
    for result in mapped:
        assert len(result) <= MAX_LENGTH and result.startswith("jupyter-")
        assert all(ch.isascii() and (ch.islower() or ch.isdigit() or ch in "-_") for ch in result), result


def test_a_prefix_that_is_not_a_user_name_is_refused() -> None:
    """Is a prefix that could make an invalid or privileged-looking name (empty, capitals, a slash) refused?"""
    for prefix in ("", "Jupyter-", "a/b-", "-x", "x" * 17):
        with pytest.raises(ValueError):
            system_username("42000001", prefix)


def test_make_private_locks_a_folder_and_creates_a_missing_one(tmp_path: Path) -> None:
    """Does make_private take group and other permissions off an open folder, create a missing one as 0700,
    and leave both alone on a second run?"""
    open_folder, missing = tmp_path / "var", tmp_path / "a" / "transcripts"
    open_folder.mkdir(mode=0o755)
    open_folder.chmod(0o775)
    for _ in range(2):
        make_private(open_folder)
        make_private(missing)
        assert open_folder.stat().st_mode & 0o777 == 0o700
        assert missing.stat().st_mode & 0o777 == 0o700


def test_without_root_no_server_account_is_made() -> None:
    """Run by an unprivileged hub (user nobody when the test is root), does ensure_system_user fail closed with
    a message that says what to do, instead of falling back to the hub's own user?"""
    code = (
        "from pathlib import Path\nfrom diemcau.adapters.system_users import ensure_system_user\n"
        "try:\n    ensure_system_user('jupyter-never', Path('/nonexistent/jupyter-never'))\n"
        "except Exception as exc:\n    print(type(exc).__name__, exc)\n"
    )
    command = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "nobody", "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, cwd="/", check=False)
    assert result.stdout.startswith("IsolationUnavailable"), result.stdout + result.stderr
    assert "not root" in result.stdout and "KubeSpawner" in result.stdout
    with pytest.raises(KeyError):
        pwd.getpwnam("jupyter-never")


@pytest.fixture
def account_name() -> Iterator[str]:
    """A throwaway system user name, removed afterwards."""
    name = f"jupyter-t{os.getpid()}"
    yield name
    subprocess.run(["userdel", name], capture_output=True, check=False)


@as_root
def test_an_account_is_created_once_with_a_private_home(tmp_path: Path, account_name: str) -> None:
    """Does ensure_system_user create an unprivileged account in a group of its own, with a 0700 home it owns,
    and return the same account on a second call after its home was opened up?"""
    homes = tmp_path / "homes"
    first = ensure_system_user(account_name, homes / account_name)
    entry = pwd.getpwnam(account_name)
    assert (first.uid, first.gid) == (entry.pw_uid, entry.pw_gid) and first.uid != 0 and first.gid != 0
    home = homes / account_name
    assert (home.stat().st_uid, home.stat().st_mode & 0o777) == (first.uid, 0o700)
    home.chmod(0o755)
    assert ensure_system_user(account_name, home) == first
    assert home.stat().st_mode & 0o777 == 0o700


@as_root
def test_a_planted_link_or_an_open_homes_folder_is_refused(tmp_path: Path, account_name: str) -> None:
    """Is a home that is a symlink (which would have root hand its target over) refused, and so is a homes
    folder other users may write to (where such a link could be planted)?"""
    target = tmp_path / "secret"
    target.mkdir(mode=0o700)
    homes = tmp_path / "homes"
    homes.mkdir(mode=0o755)
    (homes / account_name).symlink_to(target)
    with pytest.raises(IsolationUnavailable):
        ensure_system_user(account_name, homes / account_name)
    assert target.stat().st_uid == 0 and target.stat().st_mode & 0o777 == 0o700
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with pytest.raises(IsolationUnavailable):
        ensure_system_user(account_name, shared / account_name)


def test_terminals_only_for_the_terminal_groups() -> None:
    """Are terminals turned off for a secretary, a trainer and a committee, and left on for an admin?"""
    for groups in ({"role-secretary", "org-cb-thon-dong"}, {"role-trainer"}, {"role-committee"}, set()):
        assert terminal_args(groups, ["role-admin"]) == ["--ServerApp.terminals_enabled=False"]
    assert terminal_args({"role-admin", "role-member"}, ["role-admin"]) == []


@pytest.mark.parametrize("uid", [0, os.geteuid()])
def test_ending_an_accounts_processes_never_touches_root_or_the_hub(uid: int) -> None:
    """Is ending "every process of a staff account" refused for root and for the hub's own user (an account with
    a wrong uid must not make a server's stop end the platform)?"""
    with pytest.raises(ValueError, match="refusing"):
        end_processes_of(uid, grace=0.1)
