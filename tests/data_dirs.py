"""Environment that points the settings at a data directory and content folders of a test's own, never at the
source tree (``courses/``, ``transcripts/``) or the developer's ``var/``."""

from __future__ import annotations

from pathlib import Path

from diemcau.adapters.passwords import SecretVerifier

# Argon2id at its cheapest (t=1, m=8 KiB, p=1), for tests only: at production's cost (RFC 9106 low memory) a
# hash takes most of a second, and the suite makes hundreds.
CHEAP_ARGON2 = {
    "DIEMCAU_AUTH__ARGON2_TIME_COST": "1",
    "DIEMCAU_AUTH__ARGON2_MEMORY_KIB": "8",
    "DIEMCAU_AUTH__ARGON2_PARALLELISM": "1",
}
CHEAP = SecretVerifier(time_cost=1, memory_kib=8, parallelism=1)  # the same cost, for tests that hash directly


def data_dir_environ(root: Path, **extra: str) -> dict[str, str]:
    """``DIEMCAU_*`` variables for a data directory ``root/var`` with content folders beside it; ``extra``
    adds or overrides variables. Argon2 is at its cheapest (``CHEAP_ARGON2``)."""
    return {
        **CHEAP_ARGON2,
        "DIEMCAU_HOME": str(root / "var"),
        "DIEMCAU_CONTENT__COURSES_DIR": str(root / "courses"),
        "DIEMCAU_CONTENT__TRANSCRIPTS_DIR": str(root / "transcripts"),
        "DIEMCAU_CONFIG": str(root / "var" / "diemcau.toml"),
        **extra,
    }


def sqlite_url(root: Path) -> str:
    """The default SQLite database of the data directory under ``root``."""
    return f"sqlite:///{root / 'var' / 'diemcau.sqlite'}"
