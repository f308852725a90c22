"""Where lecture materials live: ``<data>/materials/<lecture id>/<stored name>`` (see ``core.material``).

An upload is first copied into the volume's staging folder — counting its bytes against the limit and hashing
it as it goes — then published with the volume's ``publish_file`` (a rename on the same file system, then an
fsync of the folder; ``adapters/storage.py``), so a reader never sees half a file. ``receive`` removes its staging file on the way out unless it was published, so a refused or failed
upload leaves nothing behind. Stored names carry the content's hash, so replacing a material writes a new file
and the old one is removed only after the database points at the new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from diemcau.adapters.storage import SharedVolume, as_volume
from diemcau.core.lecture import is_valid_lecture_id
from diemcau.core.material import mb_label
from diemcau.materials.errors import MaterialError

CHUNK = 1 << 20


@dataclass(frozen=True)
class StagedFile:
    """An upload copied whole into the staging folder, with its size and sha256."""

    path: Path
    size: int
    sha256: str


class MaterialFiles:
    """The materials store (the process's ``stores.materials``): staging, atomic publishing, lookup and removal
    of stored files."""

    def __init__(self, root: Path | SharedVolume) -> None:
        self.volume = as_volume(root)
        self.root = self.volume.root

    @contextlib.contextmanager
    def receive(self, stream: BinaryIO, max_bytes: int) -> Iterator[StagedFile]:
        """Copy ``stream`` into staging (``MaterialError`` past ``max_bytes`` or when empty); the staging file
        is removed when the block ends, unless ``publish`` has moved it into place."""
        with self.volume.scratch_file() as path:
            size, digest = _copy_limited(stream, path, max_bytes)
            if size == 0:
                raise MaterialError("empty")
            yield StagedFile(path, size, digest)

    def path_of(self, lecture_id: str, stored_name: str) -> Path:
        """Where a stored file of a lecture lives (whether or not it exists)."""
        return self.volume.path(self._key(lecture_id, stored_name))

    @staticmethod
    def _key(lecture_id: str, stored_name: str) -> str:
        if not is_valid_lecture_id(lecture_id) or "/" in stored_name:
            raise ValueError(f"not a material location: {lecture_id!r} {stored_name!r}")
        return f"{lecture_id}/{stored_name}"

    def publish(self, staged: StagedFile, lecture_id: str, stored_name: str) -> Path:
        """Rename the staged file into place (atomically replacing an identical earlier copy); returns its path."""
        key = self._key(lecture_id, stored_name)
        self.volume.publish_file(staged.path, key)
        return self.volume.path(key)

    def local_path(self, lecture_id: str, stored_name: str) -> Path | None:
        """The stored file, if it exists."""
        try:
            return self.volume.local_path(self._key(lecture_id, stored_name))
        except ValueError:
            return None

    def remove(self, lecture_id: str, stored_name: str) -> None:
        """Delete a stored file (and the lecture's folder once empty); a missing file is not an error."""
        self.volume.remove(self._key(lecture_id, stored_name))


def _copy_limited(stream: BinaryIO, target: Path, max_bytes: int) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise MaterialError("too_large", max_mb=mb_label(max_bytes))
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()
