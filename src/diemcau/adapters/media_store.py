"""The media store: finished lecture media, content-addressed by the sha256 of the source file.

Layout (one folder per source, shared by every lecture made from it)::

    media/<sha256>/master.m3u8       the master playlist (video ladder, then audio-only)
                   manifest.json     renditions with their measured bit rates
                   audio/index.m3u8  + seg_*.ts   the audio-only "Chỉ nghe" rendition
                   v240/ v360/ v720/ video renditions, only those no taller than the source
                   poster.jpg  audio.m4a

A folder appears whole or not at all: ``put`` publishes a finished folder with the volume's ``publish_tree`` (one
atomic rename of the folder, ``adapters/storage.py``), so no reader ever sees half a lecture. ``MediaStore`` is
the narrow interface; ``LocalMediaStore`` keeps the media on a ``SharedVolume`` (a local disk, or NFS/CephFS
shared by the hosts), whose ``local_path`` is what nginx serves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from diemcau.adapters.storage import SharedVolume, as_volume
from diemcau.core.lecture import is_sha256, safe_media_path


class MediaStore(Protocol):
    """Where finished media lives."""

    def has(self, sha256: str) -> bool:
        """Is the media of this source complete in the store?"""
        ...

    def put(self, sha256: str, folder: Path) -> None:
        """Publish a finished folder as ``sha256``, atomically; the folder is consumed. No-op if present."""
        ...

    def local_path(self, sha256: str, name: str) -> Path | None:
        """The local file for ``name`` (e.g. ``v360/seg_00001.ts``) in ``sha256``'s media, if it exists."""
        ...

    def remove(self, sha256: str) -> None:
        """Delete the media of a source (when no lecture uses it any more)."""
        ...


class LocalMediaStore:
    """The store as folders on the media volume (by default the data directory's ``media/``)."""

    def __init__(self, root: Path | SharedVolume) -> None:
        self.volume = as_volume(root)
        self.root = self.volume.root

    @staticmethod
    def _key(sha256: str) -> str:
        if not is_sha256(sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return sha256

    def has(self, sha256: str) -> bool:
        """Is ``media/<sha256>/`` there (it only ever appears complete)?"""
        return self.volume.path(self._key(sha256)).is_dir()

    def put(self, sha256: str, folder: Path) -> None:
        """Publish ``folder`` as ``media/<sha256>`` (through the volume's staging, one rename)."""
        self.volume.publish_tree(self._key(sha256), folder)

    def local_path(self, sha256: str, name: str) -> Path | None:
        """The file, when ``name`` is a safe media path and the file exists."""
        if not is_sha256(sha256) or safe_media_path(name) is None:
            return None
        return self.volume.local_path(f"{sha256}/{name}")

    def remove(self, sha256: str) -> None:
        """Rename the folder away first (atomic), then delete it."""
        self.volume.remove_tree(self._key(sha256))

    def clear_staging(self) -> None:
        """Remove leftovers of publishes interrupted between move and rename (safe while none runs)."""
        self.volume.clear_staging()
