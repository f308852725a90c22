"""The one error of the materials pipeline: a code (a key of the ``[materials]`` catalogue table) and its values."""

from __future__ import annotations

from diemcau.i18n.catalogue_error import CatalogueError

# The HTTP status each refusal maps to; anything not listed is 422 (the file or request cannot be used).
HTTP_STATUS = {"too_large": 413, "duplicate": 409, "lecture_not_found": 404, "not_found": 404}


class MaterialError(CatalogueError):
    """A material refused or not found; ``message()`` is the Vietnamese sentence a trainer can act on."""

    SECTION = "materials"

    @property
    def http_status(self) -> int:
        """The status an API answers this refusal with."""
        return HTTP_STATUS.get(self.code, 422)

    def __str__(self) -> str:
        return self.message("en")
