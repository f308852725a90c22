"""Does the README's *Layout* tree match the source tree: every package of ``src/diemcau`` listed, nothing listed
that is not there?"""

from __future__ import annotations

import re
from pathlib import Path

import diemcau

SRC = Path(diemcau.__file__).resolve().parent
ROOT = SRC.parents[1]
ENTRY = re.compile(r"^( *)((?:[\w.-]+/)+)(?: |$)")
NOT_IN_GIT = {"var"}


def layout_entries() -> list[str]:
    """The folders the README's layout block names, as paths from the repository root (``src/diemcau/apps/api``)."""
    text = (ROOT / "README.md").read_text("utf-8")
    block = text.split("## Layout\n", 1)[1].split("```\n", 2)[1]
    stack: list[tuple[int, str]] = []
    found = []
    for line in block.splitlines():
        match = ENTRY.match(line)
        if match is None:
            continue  # a description's continuation
        indent, name = len(match.group(1)), match.group(2).rstrip("/")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = f"{stack[-1][1]}/{name}" if stack else name
        stack.append((indent, path))
        found.append(path)
    return found


def test_does_the_readme_layout_list_every_package_of_src() -> None:
    """Each folder of ``src/diemcau`` with an ``__init__.py`` (migrations aside) has its line in the tree."""
    listed = set(layout_entries())
    packages = {
        path.parent.relative_to(ROOT).as_posix()
        for path in SRC.rglob("__init__.py")
        if "migrations" not in path.parts and "__pycache__" not in path.parts
    }
    assert sorted(packages - listed) == []


def test_does_every_folder_the_readme_layout_names_exist() -> None:
    """No line of the tree names a folder that is not in the repository (the data directory aside)."""
    entries = layout_entries()
    assert "src/diemcau/apps/api/routes" in entries  # the parse found the nesting
    assert sorted(path for path in entries if path not in NOT_IN_GIT and not (ROOT / path).is_dir()) == []
