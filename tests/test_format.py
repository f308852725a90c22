"""The code is as the formatter leaves it (``ruff format``, ``[tool.ruff]`` in ``pyproject.toml``), with no
skip or off marker fighting it: a formatter-friendly shape exists for every statement."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FORMATTED = ("src", "tests", "bench")


def test_is_every_python_file_as_ruff_format_leaves_it() -> None:
    """Would ``ruff format`` change nothing? (Run ``.venv/bin/ruff format src tests bench`` to fix.)"""
    ruff = Path(sys.executable).parent / "ruff"
    checked = subprocess.run([str(ruff), "format", "--check", *FORMATTED], cwd=REPO, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_does_no_line_tell_the_formatter_to_skip_it() -> None:
    """Is there no line left that tells the formatter to skip it (or to turn off)?"""
    marker = "# fmt: " + "skip", "# fmt: " + "off"  # split, so this file does not match itself
    found = [
        f"{path.relative_to(REPO)}:{number}"
        for folder in FORMATTED
        for path in sorted((REPO / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(m in line for m in marker)
    ]
    assert found == []
