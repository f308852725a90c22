"""Unprivileged system users for staff servers, and private folders for the platform's state (Linux).

``ensure_system_user`` creates a staff server's account on first use with ``useradd`` (an account in a group
of its own, with no password, so nobody logs in as it) and its home (mode 0700, owned by it).
``make_private`` takes every group and other permission off a folder, so only its owner (the hub's user)
and root enter it. Both are idempotent; creating and switching users needs root, and anything else fails closed
with :class:`IsolationUnavailable` rather than run a server as the hub's user. ``end_processes_of`` ends every
process of such an account when its server stops (kernels, the studio, anything a kernel left running).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from diemcau.adapters.procfs import each_process

USERADD_NAME_EXISTS = 9  # useradd's exit status when the name is taken (a concurrent spawn created it)


class IsolationUnavailable(RuntimeError):
    """A server cannot run as its own unprivileged user here; the message tells the operator what to do."""


@dataclass(frozen=True)
class SystemUser:
    """The account a staff server runs as."""

    name: str
    uid: int
    gid: int
    home: Path


def make_private(path: Path) -> None:
    """Create the folder ``path`` if missing and clear its group and other permission bits (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(mode & 0o700)


def ensure_system_user(name: str, home: Path) -> SystemUser:
    """The unprivileged account ``name`` with its private home ``home``, created if missing; never root and
    never the hub's own user."""
    if os.geteuid() != 0:
        raise IsolationUnavailable(
            f"the hub runs as uid {os.geteuid()}, not root, so it cannot create the system user {name} or start "
            "a server as it; staff servers never share the hub's user. Run the hub as root (sudo diemcau hub), or "
            "give each server its own pod with KubeSpawner (docs/security/isolation.md)."
        )
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        entry = _create(name, home)
    if entry.pw_uid == 0 or entry.pw_gid == 0 or entry.pw_uid == os.geteuid():
        raise IsolationUnavailable(
            f"system user {name} has uid {entry.pw_uid} and gid {entry.pw_gid}: a staff server never runs as root "
            "or as the hub's user; remove or rename that account."
        )
    user = SystemUser(name, entry.pw_uid, entry.pw_gid, home)
    _ensure_home(user)
    return user


def _create(name: str, home: Path) -> pwd.struct_passwd:
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    # Not --system: Debian keeps fewer than 900 uids for system accounts, and a province has more staff than that.
    command = [
        useradd,
        "--user-group",
        "--no-create-home",
        "--home-dir",
        str(home),
        "--shell",
        "/bin/bash",
        "--comment",
        "Diem Cau staff server",
        name,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode not in (0, USERADD_NAME_EXISTS):
        raise IsolationUnavailable(f"useradd {name} failed ({result.returncode}): {result.stderr.strip()}")
    return pwd.getpwnam(name)


def _ensure_home(user: SystemUser) -> None:
    """``user.home``: a real folder (never a symlink), owned by the user, mode 0700, in a folder only root may
    write to (else another account could plant a link there and have root hand its target over)."""
    parent = user.home.parent
    parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    parent_stat = parent.stat()
    if parent_stat.st_uid != 0 or parent_stat.st_mode & 0o022:
        raise IsolationUnavailable(f"{parent} holds staff homes: it must be owned by root and writable by no one else")
    try:
        user.home.mkdir(mode=0o700)
    except FileExistsError:
        pass
    home_stat = user.home.lstat()
    if not stat.S_ISDIR(home_stat.st_mode):
        raise IsolationUnavailable(f"{user.home} is not a folder; move it away so the home can be created")
    if (home_stat.st_uid, home_stat.st_gid) != (user.uid, user.gid):
        os.chown(user.home, user.uid, user.gid, follow_symlinks=False)
    if stat.S_IMODE(home_stat.st_mode) != 0o700:
        user.home.chmod(0o700)


def uid_of(name: str) -> int | None:
    """The uid of the system user ``name``; ``None`` if there is no such account."""
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def processes_of(uid: int) -> list[int]:
    """The live processes whose real uid is ``uid`` (Linux ``/proc``; zombies, already dead, are left out)."""
    found = []
    for pid, status in each_process("status"):
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith("Z"):
            found.append(pid)
    return found


def end_processes_of(uid: int, grace: float) -> list[int]:
    """End every process of the staff account ``uid``: SIGTERM, then SIGKILL whatever is left after ``grace``
    seconds; returns once none is left (or ``grace`` after the SIGKILL), with the pids that were signalled.
    Never for root or the caller's own uid."""
    if uid in (0, os.geteuid(), os.getuid()):
        raise ValueError(f"refusing to end the processes of uid {uid}")
    signalled: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGKILL):
        deadline = time.monotonic() + grace
        sent: set[int] = set()
        while pids := processes_of(uid):
            for pid in set(pids) - sent:  # new ones too: a process may fork while it is being stopped
                try:
                    os.kill(pid, signum)
                except ProcessLookupError:
                    continue
                sent.add(pid)
                if pid not in signalled:
                    signalled.append(pid)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        else:
            return signalled
    return signalled
