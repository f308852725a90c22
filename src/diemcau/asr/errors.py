"""The one error type of the transcription stages: a code naming a catalogue message (``asr.<code>``)."""

from __future__ import annotations

from diemcau.i18n import t


class TranscriptionError(Exception):
    """A transcription cannot go on (unreadable audio, no model). ``code`` is a key under ``asr.``.

    ``transient`` errors may pass on a retry; the others are the trainer's or operator's to fix.
    """

    def __init__(self, code: str, *, transient: bool = False, **params: object) -> None:
        super().__init__(f"{code}: {params}" if params else code)
        self.code = code
        self.transient = transient
        self.params = params

    def message(self, language: str = "vi") -> str:
        """The error as a sentence for the trainer, in ``language``."""
        return t(f"asr.{self.code}", language, **self.params)
