"""The one error type of the media stages: a code naming a catalogue message, and whether a retry may help."""

from __future__ import annotations

from diemcau.i18n.catalogue_error import CatalogueError


class MediaError(CatalogueError):
    """A media stage cannot go on. ``code`` is a key under ``media.`` in the message catalogue.

    ``transient`` errors (a network hiccup, a server error) are retried by the job; the others (no audio, not
    media, too long ...) are the trainer's to fix and fail at once.
    """

    SECTION = "media"
