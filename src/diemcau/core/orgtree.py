"""The organisation tree (đảng bộ / chi bộ) of any depth, as materialised paths.

Each org unit stores ``path``: the codes of its ancestors and itself joined by ``/``, with a leading and
trailing slash (``/hn/xa-a/cb-1/``). A subtree is then a prefix match, which both SQLite and PostgreSQL
index well, and no recursive query is needed to scope a committee to its units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class OrgUnit:
    """One node of the tree: a province, commune, cell or anything in between."""

    code: str
    name: str
    kind: str
    path: str

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

    @property
    def parent_path(self) -> str | None:
        parts = self.path.strip("/").split("/")
        return None if len(parts) == 1 else "/" + "/".join(parts[:-1]) + "/"


def is_valid_code(code: str) -> bool:
    """Is this a usable org unit code (lowercase letters, digits, ``-`` and ``_``)?"""
    return bool(CODE_PATTERN.match(code))


def child_path(parent_path: str | None, code: str) -> str:
    """The path of a unit called ``code`` under ``parent_path`` (``None`` for a root)."""
    if not is_valid_code(code):
        raise ValueError(f"invalid org unit code {code!r}: use lowercase letters, digits, '-' or '_'")
    return f"{parent_path or '/'}{code}/"


def is_within(path: str, ancestor_path: str) -> bool:
    """Is the unit at ``path`` the unit at ``ancestor_path`` or below it?"""
    return path.startswith(ancestor_path)
