"""The system account each staff server runs as: one unprivileged Linux user per hub user (The Littlest
JupyterHub's scheme), named ``<prefix><hub name>``.

The mapping must be one-to-one, or two staff members would share files. A hub name that is already a short,
lower-case Linux name (``[a-z0-9-]``, as card numbers are) maps to itself after the prefix. Any other name (an
LDAP login with capitals, dots or ``@``, or one too long for Linux's 32 characters) keeps a readable part and
adds ``_`` and a hash of the full name; the first form never contains ``_``, so the two forms cannot meet.
"""

from __future__ import annotations

import hashlib
import re

MAX_LENGTH = 32  # useradd's limit on Debian
HASH_LENGTH = 12
PREFIX_PATTERN = r"^[a-z][a-z0-9-]{0,15}$"  # leaves room for a readable part and the hash
_PLAIN = re.compile(r"[a-z0-9-]+")
_UNSAFE = re.compile(r"[^a-z0-9-]+")


def system_username(hub_name: str, prefix: str) -> str:
    """The Linux user name of ``hub_name``'s server: ``prefix + hub_name`` when that is a valid name, else a
    readable part, ``_`` and the first 12 hex digits of the name's SHA-256."""
    if not re.fullmatch(PREFIX_PATTERN, prefix):
        raise ValueError(f"system user prefix {prefix!r} must match {PREFIX_PATTERN}")
    if _PLAIN.fullmatch(hub_name) and len(prefix) + len(hub_name) <= MAX_LENGTH:
        return prefix + hub_name
    digest = hashlib.sha256(hub_name.encode("utf-8")).hexdigest()[:HASH_LENGTH]
    room = MAX_LENGTH - len(prefix) - 1 - HASH_LENGTH
    readable = _UNSAFE.sub("-", hub_name.lower()).strip("-")[:room]
    return f"{prefix}{readable}_{digest}"
