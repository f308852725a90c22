"""The one error type of the media stages: a code naming a catalogue message, and whether a retry may help."""

from __future__ import annotations

from diemcau.i18n import t


class MediaError(Exception):
    """A media stage cannot go on. ``code`` is a key under ``media.`` in the message catalogue.

    ``transient`` errors (a network hiccup, a server error) are retried by the job; the others (no audio, not
    media, too long ...) are the trainer's to fix and fail at once.
    """

    def __init__(self, code: str, *, transient: bool = False, **params: object) -> None:
        super().__init__(f"{code}: {params}" if params else code)
        self.code = code
        self.transient = transient
        self.params = params

    def message(self, language: str = "vi") -> str:
        """The error as a sentence for the trainer, in ``language``."""
        return t(f"media.{self.code}", language, **self.params)
