"""The one error of the materials pipeline: a code (a key of the ``[materials]`` catalogue table) and its values."""

from __future__ import annotations

from diemcau.i18n import t

# The HTTP status each refusal maps to; anything not listed is 422 (the file or request cannot be used).
HTTP_STATUS = {"too_large": 413, "duplicate": 409, "lecture_not_found": 404, "not_found": 404}


class MaterialError(Exception):
    """A material refused or not found; ``message()`` is the Vietnamese sentence a trainer can act on."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def message(self, language: str = "vi") -> str:
        """The catalogue's message ``materials.<code>`` with the error's values filled in."""
        return t(f"materials.{self.code}", language, **self.params)

    @property
    def http_status(self) -> int:
        """The status an API answers this refusal with."""
        return HTTP_STATUS.get(self.code, 422)

    def __str__(self) -> str:
        return self.message("en")
