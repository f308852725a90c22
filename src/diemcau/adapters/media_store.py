"""The media store: finished lecture media, content-addressed by the sha256 of the source file.

Layout (one folder per source, shared by every lecture made from it)::

    media/<sha256>/master.m3u8       the master playlist (video ladder, then audio-only)
                   manifest.json     renditions with their measured bit rates
                   audio/index.m3u8  + seg_*.ts   the audio-only "Chỉ nghe" rendition
                   v240/ v360/ v720/ video renditions, only those no taller than the source
                   poster.jpg  audio.m4a

A folder appears whole or not at all: ``put`` moves a finished folder into ``media/.staging/`` and renames it
into place (one atomic rename on the same file system), so no reader ever sees half a lecture. ``MediaStore`` is
the narrow interface; object storage can replace ``LocalMediaStore`` by uploading under a temporary prefix and
publishing the manifest last.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Protocol

from diemcau.core.lecture import is_sha256, safe_media_path

STAGING = ".staging"


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
    """The store as folders under the data directory's ``media/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _folder(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self.root / sha256

    def has(self, sha256: str) -> bool:
        """Is ``media/<sha256>/`` there (it only ever appears complete)?"""
        return self._folder(sha256).is_dir()

    def put(self, sha256: str, folder: Path) -> None:
        """Move ``folder`` to ``media/.staging/<random>`` then rename it to ``media/<sha256>``."""
        final = self._folder(sha256)
        if final.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            return
        staging = self.root / STAGING / f"{sha256}-{uuid.uuid4().hex[:8]}"
        staging.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), staging)  # a rename when on the same file system, else a copy into staging
        try:
            os.rename(staging, final)
        except OSError:
            if not final.is_dir():  # not a lost race with another worker publishing the same source
                raise
            shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):  # leave no empty staging folder behind
            staging.parent.rmdir()

    def local_path(self, sha256: str, name: str) -> Path | None:
        """The file, when ``name`` is a safe media path and the file exists."""
        if not is_sha256(sha256) or safe_media_path(name) is None:
            return None
        path = self.root / sha256 / name
        return path if path.is_file() else None

    def remove(self, sha256: str) -> None:
        """Rename the folder away first (atomic), then delete it."""
        folder = self._folder(sha256)
        if not folder.is_dir():
            return
        doomed = self.root / STAGING / f"removed-{sha256}-{uuid.uuid4().hex[:8]}"
        doomed.parent.mkdir(parents=True, exist_ok=True)
        os.rename(folder, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

    def clear_staging(self) -> None:
        """Remove leftovers of publishes interrupted between move and rename (safe while none runs)."""
        shutil.rmtree(self.root / STAGING, ignore_errors=True)
