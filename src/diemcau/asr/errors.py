"""The one error type of the transcription stages: a code naming a catalogue message (``asr.<code>``)."""

from __future__ import annotations

from diemcau.i18n.catalogue_error import CatalogueError


class TranscriptionError(CatalogueError):
    """A transcription cannot go on (unreadable audio, no model). ``code`` is a key under ``asr.``.

    ``transient`` errors may pass on a retry; the others are the trainer's or operator's to fix.
    """

    SECTION = "asr"
