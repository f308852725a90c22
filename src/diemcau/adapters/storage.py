"""Where media, transcripts and materials live: one small interface, ``FileStore``, and its shared-volume
implementation, ``SharedVolume`` (a folder; an NFS or CephFS mount when the platform runs on several hosts).

Every file of those three stores is written, read, listed and deleted through this module, so its rules live here
once:

- **Keys.** A key is a relative POSIX path of plain names (``check_key``): each part starts with a letter or digit
  and holds only letters, digits, ``.``, ``_`` and ``-``. No ``..``, no absolute path, no backslash, no NUL or
  other control character, no dotfile (names starting with ``.`` are the volume's own: temporary files, staging,
  locks), nothing that could leave the root.
- **Atomic publish.** ``publish`` writes each file to a temporary file *in its target folder*, fsyncs it, renames
  it over the target (``os.replace``) and fsyncs the folder: what a network file system needs for a rename to be
  durable and for readers on other hosts to see the old file or the new one, never half of one. Several files go
  in the order given (the last is the commit point) after all of them were staged, so a failure while staging
  leaves the old set untouched. ``publish_tree`` moves a finished folder in with one rename of the folder.
- **Deletion** of a lecture's tree renames it away first (atomic for readers), then deletes it.
- **``local_path``** is what nginx serves: a path on this machine's mount. Only a shared volume has one; a future
  object store would return ``None`` and be served another way.

Stores are owned by the process's context (``ApiRuntime.stores``, ``WorkerContext.stores``, built by
``stores_of``), never by a module.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from diemcau.settings import Settings

STAGING = ".staging"
MAX_KEY = 512
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class BadKey(ValueError):
    """A key that is not a plain relative path inside the store."""


def check_key(key: str) -> str:
    """``key`` when it names a place inside a store (module doc), else ``BadKey``."""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY:
        raise BadKey(f"not a store key: {key!r}")
    if not all(_PART.match(part) for part in key.split("/")):
        raise BadKey(f"not a store key: {key!r}")
    return key


class FileStore(Protocol):
    """A tree of files addressed by keys (``check_key``); what media, transcripts and materials are kept in."""

    def exists(self, key: str) -> bool:
        """Is there a file or folder at ``key``?"""
        ...

    def read_bytes(self, key: str) -> bytes | None:
        """The file at ``key``, or ``None`` when there is none."""
        ...

    def publish(self, folder: str, files: Mapping[str, bytes]) -> None:
        """Write ``files`` (name → content) into ``folder`` atomically, in order; the last is the commit point."""
        ...

    def publish_file(self, source: Path, key: str) -> None:
        """Move a finished local file to ``key`` atomically (replacing what is there); ``source`` is consumed."""
        ...

    def publish_tree(self, key: str, source: Path) -> bool:
        """Move a finished local folder to ``key`` atomically; False (``source`` deleted) if ``key`` exists."""
        ...

    def list(self, folder: str = "") -> list[str]:
        """The names in ``folder`` (the root when empty), sorted; the store's own dotfiles are left out."""
        ...

    def remove(self, key: str) -> None:
        """Delete the file at ``key`` and its folder once empty; a missing file is not an error."""
        ...

    def remove_tree(self, key: str) -> None:
        """Delete the folder at ``key`` and everything in it (it disappears at once for readers)."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file at ``key`` on this machine, for nginx or a subprocess; ``None`` when missing or not local."""
        ...


class SharedVolume:
    """A ``FileStore`` in a folder: a local disk on one machine, an NFS or CephFS mount shared by many hosts.

    ``local_path`` is meaningful here only: it is the file on the mount, which nginx serves and ffmpeg reads.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"SharedVolume({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """Where ``key`` lies under the root (whether or not it exists); ``BadKey`` for a key that could escape."""
        return self.root / check_key(key)

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def read_bytes(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def publish(self, folder: str, files: Mapping[str, bytes]) -> None:
        target = self.path(folder)
        names = [check_key(name) for name in files]
        if any("/" in name for name in names):
            raise BadKey(f"publish takes plain names: {names!r}")
        target.mkdir(parents=True, exist_ok=True)
        staged = _stage(target, files)
        for name, temp in staged.items():
            os.replace(temp, target / name)
        fsync_dir(target)

    def publish_file(self, source: Path, key: str) -> None:
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            shutil.move(str(source), temp)  # a rename on the same file system, else a copy beside the target
            _fsync_file(temp)
            os.replace(temp, final)
        finally:
            temp.unlink(missing_ok=True)
        fsync_dir(final.parent)

    def publish_tree(self, key: str, source: Path) -> bool:
        final = self.path(key)
        if final.is_dir():
            shutil.rmtree(source, ignore_errors=True)
            return False
        staging = self._staging(f"{final.name}-{uuid.uuid4().hex[:8]}")
        shutil.move(str(source), staging)  # a rename when on the same file system, else a copy into staging
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staging, final)
        except OSError:
            if not final.is_dir():  # not a lost race with another host publishing the same key
                raise
            shutil.rmtree(staging, ignore_errors=True)
            return False
        finally:
            with contextlib.suppress(OSError):  # leave no empty staging folder behind
                staging.parent.rmdir()
        fsync_dir(final.parent)
        return True

    def list(self, folder: str = "") -> list[str]:
        target = self.path(folder) if folder else self.root
        try:
            return sorted(p.name for p in target.iterdir() if not p.name.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def remove(self, key: str) -> None:
        path = self.path(key)
        path.unlink(missing_ok=True)
        if "/" in key:
            with contextlib.suppress(OSError):
                path.parent.rmdir()

    def remove_tree(self, key: str) -> None:
        folder = self.path(key)
        if not folder.is_dir():
            return
        doomed = self._staging(f"removed-{folder.name}-{uuid.uuid4().hex[:8]}")
        os.rename(folder, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
        with contextlib.suppress(OSError):
            doomed.parent.rmdir()

    def local_path(self, key: str) -> Path | None:
        try:
            path = self.path(key)
        except BadKey:
            return None
        return path if path.is_file() else None

    @contextlib.contextmanager
    def scratch_file(self) -> Iterator[Path]:
        """A fresh path in the volume's staging folder (same file system, so ``publish_file`` is a rename),
        removed when the block ends unless it was published."""
        path = self._staging(uuid.uuid4().hex)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def clear_staging(self) -> None:
        """Remove leftovers of publishes interrupted between move and rename (safe while none runs)."""
        shutil.rmtree(self.root / STAGING, ignore_errors=True)

    def _staging(self, name: str) -> Path:
        staging = self.root / STAGING
        staging.mkdir(parents=True, exist_ok=True)
        return staging / name


def _stage(folder: Path, contents: Mapping[str, bytes]) -> dict[str, Path]:
    """Write each content to a temporary file in ``folder`` (fsynced); on any failure remove them all, re-raise."""
    staged: dict[str, Path] = {}
    try:
        for name, data in contents.items():
            fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
            staged[name] = Path(temp)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        for temp in staged.values():
            temp.unlink(missing_ok=True)
        raise
    return staged


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (on NFS, visible to other hosts' fresh lookups)."""
    _fsync_file(folder)


def as_volume(place: Path | str | SharedVolume) -> SharedVolume:
    """``place`` as a volume: the callers' own volume, or one over a folder (the CLI, tests, scripts)."""
    return place if isinstance(place, SharedVolume) else SharedVolume(Path(place))


@dataclass(frozen=True)
class Stores:
    """The three stores of one process: media (content-addressed), transcripts and materials (by lecture)."""

    media: SharedVolume
    transcripts: SharedVolume
    materials: SharedVolume


def stores_of(settings: Settings) -> Stores:
    """The stores the settings name (``media_dir``, ``transcripts_dir``, ``<home>/materials``)."""
    return Stores(
        media=SharedVolume(settings.media_dir),
        transcripts=SharedVolume(settings.transcripts_dir),
        materials=SharedVolume(settings.materials_dir),
    )
