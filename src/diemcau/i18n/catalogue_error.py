"""An exception that *is* a message of the catalogue: a code under one table, and the values to fill in.

The stages' own errors (``MediaError``, ``TranscriptionError``, ``MaterialError``) subclass it and name their
table, so every refusal reaches the user as the same sentence in their language.
"""

from __future__ import annotations

from typing import ClassVar

from diemcau.i18n import t


class CatalogueError(Exception):
    """``code`` is a key under the subclass's ``SECTION``; ``transient`` errors may pass on a retry, the others
    are the user's or operator's to fix."""

    SECTION: ClassVar[str] = ""

    def __init__(self, code: str, *, transient: bool = False, **params: object) -> None:
        super().__init__(f"{code}: {params}" if params else code)
        self.code = code
        self.transient = transient
        self.params = params

    def message(self, language: str = "vi") -> str:
        """The error as a sentence for the user, in ``language``."""
        return t(f"{self.SECTION}.{self.code}", language, **self.params)
