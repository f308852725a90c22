"""The message catalogue: every user-facing string, Vietnamese first, so English can follow.

Catalogues are flat TOML tables (``vi.toml``, ``en.toml``) of ``key = "text with {placeholders}"``.
A key missing from a language falls back to Vietnamese; a key missing everywhere is a bug and raises.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

DEFAULT_LANGUAGE = "vi"
LANGUAGES = ("vi", "en")
_DIR = Path(__file__).parent


@cache
def load_catalogue(language: str) -> dict[str, str]:
    """The messages of one language, flattened to ``section.key`` names."""
    path = _DIR / f"{language}.toml"
    if not path.exists():
        return {}
    return _flatten(tomllib.loads(path.read_text(encoding="utf-8")))


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


def t(key: str, language: str = DEFAULT_LANGUAGE, **params: object) -> str:
    """The message ``key`` in ``language``, with ``params`` filled in."""
    text = load_catalogue(language).get(key) or load_catalogue(DEFAULT_LANGUAGE)[key]
    return text.format(**params) if params else text
