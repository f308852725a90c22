"""Environment that points the settings at a data directory and content folders of a test's own, never at the
source tree (``courses/``, ``transcripts/``) or the developer's ``var/``."""

from __future__ import annotations

from pathlib import Path


def data_dir_environ(root: Path, **extra: str) -> dict[str, str]:
    """``DIEMCAU_*`` variables for a data directory ``root/var`` with content folders beside it; ``extra``
    adds or overrides variables."""
    return {
        "DIEMCAU_HOME": str(root / "var"),
        "DIEMCAU_CONTENT__COURSES_DIR": str(root / "courses"),
        "DIEMCAU_CONTENT__TRANSCRIPTS_DIR": str(root / "transcripts"),
        "DIEMCAU_CONFIG": str(root / "var" / "diemcau.toml"),
        **extra,
    }


def sqlite_url(root: Path) -> str:
    """The default SQLite database of the data directory under ``root``."""
    return f"sqlite:///{root / 'var' / 'diemcau.sqlite'}"
