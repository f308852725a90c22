"""The file stores' one interface (``adapters/storage.py``): keys that cannot leave the volume, atomic publishing
with the folder fsynced, listing and deletion, and who owns the stores (each process's context)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from diemcau.adapters.db.engine import make_engine, make_sessionmaker
from diemcau.adapters.storage import BadKey, SharedVolume, check_key
from diemcau.apps.api.app import build_runtime
from diemcau.jobs.context import WorkerContext
from diemcau.settings import Settings

HOSTILE = [
    "",
    ".",
    "..",
    "../outside",
    "a/../../outside",
    "a/./b",
    "/etc/passwd",
    "//etc/passwd",
    "a//b",
    "a/",
    ".staging/x",
    "lecture/.lock",
    ".hidden",
    "a\\..\\outside",
    "a\x00b",
    "a\nb",
    " a",
    "-rf",
    "bài-giảng",
    "%2e%2e/outside",
    "C:outside",
    "x" * 600,
    "a/" * 300 + "b",
]


@pytest.fixture
def volume(tmp_path: Path) -> SharedVolume:
    return SharedVolume(tmp_path / "volume")


def _everything(tmp_path: Path) -> set[Path]:
    return {path for path in tmp_path.rglob("*") if path.is_file()}


@pytest.mark.parametrize("key", HOSTILE)
def test_a_key_that_could_leave_the_volume_is_refused_everywhere(
    tmp_path: Path, volume: SharedVolume, key: str
) -> None:
    """Is every hostile key refused by every operation (``local_path`` answers ``None``), writing nothing anywhere,
    and reading nothing from outside the volume?"""
    (tmp_path / "outside").write_text("secret", encoding="utf-8")
    before = _everything(tmp_path)
    source = tmp_path / "upload.bin"
    with pytest.raises(BadKey):
        check_key(key)
    assert volume.local_path(key) is None
    for attempt in (
        lambda: volume.exists(key),
        lambda: volume.read_bytes(key),
        lambda: volume.publish(key, {"f.txt": b"x"}),
        lambda: volume.publish("ok", {key: b"x"}),
        lambda: volume.publish_file(source, key),
        lambda: volume.publish_tree(key, tmp_path / "tree"),
        *([lambda: volume.list(key)] if key else []),  # "" lists the root
        lambda: volume.remove(key),
        lambda: volume.remove_tree(key),
    ):
        with pytest.raises(BadKey):
            attempt()
    assert _everything(tmp_path) == before
    assert (tmp_path / "outside").read_text(encoding="utf-8") == "secret"


def test_plain_keys_name_files_inside_the_volume(volume: SharedVolume) -> None:
    """Are the stores' real keys (a sha256 folder and a segment, a lecture and its transcript) accepted?"""
    for key in ("0" * 64 + "/v360/seg_00001.ts", "Ab12cd34Ef5/transcript.json", "Ab12cd34Ef5/0123-abcd.pdf"):
        assert volume.path(check_key(key)).is_relative_to(volume.root)


def test_publish_renames_in_order_after_staging_all_then_fsyncs_the_folder(
    volume: SharedVolume, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Are all files staged (and fsynced) before the first rename, renamed in the given order (the last is the
    commit point), and the folder fsynced after the renames, as NFS needs?"""
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        real_fsync(fd)

    def replace(source: str, target: str) -> None:
        events.append(f"rename {Path(target).name}")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    volume.publish("lecture1", {"b.vtt": b"derived", "a.json": b"truth"})
    assert events == ["fsync-file", "fsync-file", "rename b.vtt", "rename a.json", "fsync-dir"]
    assert volume.read_bytes("lecture1/a.json") == b"truth" and volume.list("lecture1") == ["a.json", "b.vtt"]


def test_a_failed_publish_keeps_the_old_files_and_leaves_no_temporary(volume: SharedVolume) -> None:
    """When the second file cannot be written, is the first one's old content kept and no temporary left?"""
    volume.publish("lecture1", {"a.txt": b"old"})
    with pytest.raises(TypeError):
        volume.publish("lecture1", {"a.txt": b"new", "b.txt": "not bytes"})  # type: ignore[dict-item]
    assert volume.read_bytes("lecture1/a.txt") == b"old"
    assert sorted(p.name for p in (volume.root / "lecture1").iterdir()) == ["a.txt"]


def test_publish_file_replaces_atomically_from_anywhere(tmp_path: Path, volume: SharedVolume) -> None:
    """Is a finished file from another folder published (replacing the old one), consumed, with no temporary?"""
    volume.publish("lecture1", {"doc.pdf": b"old"})
    source = tmp_path / "elsewhere.pdf"
    source.write_bytes(b"new")
    volume.publish_file(source, "lecture1/doc.pdf")
    assert not source.exists() and volume.read_bytes("lecture1/doc.pdf") == b"new"
    assert sorted(p.name for p in (volume.root / "lecture1").iterdir()) == ["doc.pdf"]


def test_a_tree_appears_whole_once_and_disappears_whole(tmp_path: Path, volume: SharedVolume) -> None:
    """Is a folder published once (a second copy is dropped), listed without the volume's own dotfiles, and
    removed with nothing left in staging?"""
    for n in (1, 2):
        tree = tmp_path / f"tree{n}"
        (tree / "audio").mkdir(parents=True)
        (tree / "audio" / "index.m3u8").write_text(f"copy {n}", encoding="utf-8")
        assert volume.publish_tree("sha", tree) is (n == 1)
        assert not tree.exists()
    assert volume.read_bytes("sha/audio/index.m3u8") == b"copy 1"
    assert volume.list() == ["sha"] and volume.list("missing") == []
    volume.remove_tree("sha")
    volume.remove_tree("sha")  # gone already: not an error
    assert not volume.exists("sha") and sorted(os.listdir(volume.root)) == []


def test_local_path_is_a_file_on_the_mount_or_nothing(volume: SharedVolume) -> None:
    """Does ``local_path`` give the file nginx serves, and ``None`` for a folder or a missing file?"""
    volume.publish("sha/v360", {"seg_00001.ts": b"ts"})
    assert volume.local_path("sha/v360/seg_00001.ts") == volume.root / "sha" / "v360" / "seg_00001.ts"
    assert volume.local_path("sha/v360") is None and volume.local_path("sha/v360/seg_00002.ts") is None


def test_each_process_context_owns_its_stores(settings: Settings) -> None:
    """Do the worker's and the API's contexts each hold stores on the settings' folders (none is a module's)?"""
    engine = make_engine(settings.database_url)
    try:
        factory = make_sessionmaker(engine)
        first, second = WorkerContext(settings, factory), WorkerContext(settings, factory)
        runtime = build_runtime(settings, factory, "/services/diemcau")
        try:
            assert first.stores is not second.stores
            for stores in (first.stores, runtime.stores):
                assert stores.media.root == settings.media_dir
                assert stores.transcripts.root == settings.transcripts_dir
                assert stores.materials.root == settings.materials_dir
        finally:
            runtime.close()
    finally:
        engine.dispose()
