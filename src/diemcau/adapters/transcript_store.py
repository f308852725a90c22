"""The transcript store: ``<transcripts_dir>/<lecture_id>/transcript.{json,vtt,srt,txt}``.

**Consistency.** ``transcript.json`` is the source of truth; the ``.vtt``, ``.srt`` and ``.txt`` files are
renderings of it for players and people. ``write_transcript`` renders all four, then publishes them with the
volume's ``publish`` (``adapters/storage.py``): every file is staged to a temporary file beside its target and
fsynced, so any failure while producing them (a full disk, a bad value) removes the temporaries and leaves the
old set untouched; only then is each renamed into place with ``os.replace`` (atomic), the derived files first
and **``transcript.json`` last**: the JSON rename is the commit point. Every reader in this project reads ``transcript.json`` (the API renders the player's
WebVTT from it), so no reader ever sees a mix of two versions. A crash between the renames can leave a
derived file one version ahead of the JSON; ``repair_outputs`` re-renders them from the JSON, and the next
write replaces them anyway. Writers of one lecture are serialised by ``lecture_lock`` (a re-entrant,
cross-process file lock), so two writers cannot interleave their renames.

Every function takes the store as a ``SharedVolume`` (the process's ``stores.transcripts``: the API's runtime,
the worker's context, the CLI command's) or, in tests and scripts, as its folder.

The store knows nothing of search: every writer of a transcript (transcription, caption import, correction)
calls ``search.content.content_changed`` itself after the write.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from diemcau.adapters.storage import SharedVolume, as_volume
from diemcau.core.captions import render_srt, render_txt, render_vtt
from diemcau.core.transcript import Transcript
from diemcau.core.transcript_json import transcript_from_dict, transcript_to_dict

JSON_NAME = "transcript.json"
PREVIOUS_NAME = "transcript.prev.json"
DERIVED: dict[str, Callable[[Transcript], str]] = {
    "transcript.vtt": render_vtt,
    "transcript.srt": render_srt,
    "transcript.txt": render_txt,
}
_LECTURE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


Store = Path | SharedVolume


def _key(lecture_id: str) -> str:
    """The lecture's folder key. Refuses ids that could escape the store (``..``, ``/``)."""
    if not _LECTURE_ID.match(lecture_id) or ".." in lecture_id:
        raise ValueError(f"not a valid lecture id for the transcript store: {lecture_id!r}")
    return lecture_id


def lecture_dir(transcripts: Store, lecture_id: str) -> Path:
    """The folder of one lecture's transcript. Refuses ids that could escape the store (``..``, ``/``)."""
    return as_volume(transcripts).path(_key(lecture_id))


def transcript_exists(transcripts: Store, lecture_id: str) -> bool:
    """Whether the lecture has a transcript in the store."""
    return as_volume(transcripts).exists(f"{_key(lecture_id)}/{JSON_NAME}")


def transcript_ids(transcripts: Store) -> list[str]:
    """The lectures that have a transcript in the store, sorted."""
    volume = as_volume(transcripts)
    return [name for name in volume.list() if _LECTURE_ID.match(name) and volume.exists(f"{name}/{JSON_NAME}")]


def load_transcript(transcripts: Store, lecture_id: str) -> Transcript | None:
    """The lecture's transcript, or None when it has none. Raises ``TranscriptFormatError`` if corrupt."""
    return _load(transcripts, lecture_id, JSON_NAME)


def load_previous_transcript(transcripts: Store, lecture_id: str) -> Transcript | None:
    """The transcript that the last re-transcription or import replaced (``transcript.prev.json``), if any."""
    return _load(transcripts, lecture_id, PREVIOUS_NAME)


def _load(transcripts: Store, lecture_id: str, name: str) -> Transcript | None:
    text = _read_or_none(as_volume(transcripts), lecture_id, name)
    return None if text is None else transcript_from_dict(json.loads(text))


def write_transcript(transcripts: Store, transcript: Transcript) -> Path:
    """Write the transcript's JSON, WebVTT, SRT and TXT files atomically; return the lecture's folder.

    The JSON is renamed into place last (see the module doc).
    """
    volume = as_volume(transcripts)
    key = _key(transcript.lecture_id)
    contents = {name: render(transcript) for name, render in DERIVED.items()}
    contents[JSON_NAME] = _json_text(transcript)  # last: the commit point
    with lecture_lock(volume, transcript.lecture_id):
        volume.publish(key, _encoded(contents))
    return volume.path(key)


def keep_previous(transcripts: Store, lecture_id: str) -> Path | None:
    """Copy the current ``transcript.json`` to ``transcript.prev.json`` (atomically); None if there is none."""
    volume = as_volume(transcripts)
    with lecture_lock(volume, lecture_id):
        current = _read_or_none(volume, lecture_id, JSON_NAME)
        if current is None:
            return None
        volume.publish(_key(lecture_id), _encoded({PREVIOUS_NAME: current}))
    return volume.path(f"{lecture_id}/{PREVIOUS_NAME}")


def repair_outputs(transcripts: Store, lecture_id: str) -> list[str]:
    """Re-render derived files that differ from ``transcript.json`` (after a crash); return their names."""
    volume = as_volume(transcripts)
    with lecture_lock(volume, lecture_id):
        transcript = load_transcript(volume, lecture_id)
        if transcript is None:
            return []
        stale = {name: render(transcript) for name, render in DERIVED.items()}
        stale = {name: text for name, text in stale.items() if _read_or_none(volume, lecture_id, name) != text}
        if stale:
            volume.publish(_key(lecture_id), _encoded(stale))
    return sorted(stale)


def _json_text(transcript: Transcript) -> str:
    """One segment per line: readable and diff-friendly, yet encoded by json's fast C encoder (``indent``
    would force the pure-Python one, which took most of the time of a two-hour lecture's write)."""
    data = transcript_to_dict(transcript)
    segments = data.pop("segments")
    head = json.dumps(data, ensure_ascii=False)[:-1]
    body = ",\n".join(json.dumps(s, ensure_ascii=False) for s in segments)
    return f'{head}, "segments": [\n{body}\n]}}\n' if segments else f'{head}, "segments": []}}\n'


def _encoded(contents: dict[str, str]) -> dict[str, bytes]:
    return {name: text.encode("utf-8") for name, text in contents.items()}


def _read_or_none(volume: SharedVolume, lecture_id: str, name: str) -> str | None:
    data = volume.read_bytes(f"{_key(lecture_id)}/{name}")
    return None if data is None else data.decode("utf-8")


_registry_guard = threading.Lock()
_thread_locks: dict[Path, threading.RLock] = {}
_depth: dict[Path, int] = {}
_handles: dict[Path, int] = {}


@contextlib.contextmanager
def lecture_lock(transcripts: Store, lecture_id: str) -> Iterator[None]:
    """Hold the lecture's writer lock: re-entrant within a thread, exclusive across threads and processes (and
    hosts, on a shared volume whose ``flock`` is cluster-wide: NFSv4 and CephFS)."""
    folder = lecture_dir(transcripts, lecture_id)
    folder.mkdir(parents=True, exist_ok=True)
    key = folder.absolute()
    with _registry_guard:
        thread_lock = _thread_locks.setdefault(key, threading.RLock())
    with thread_lock:  # only the holder of thread_lock touches _depth[key] and _handles[key]
        if _depth.get(key, 0) == 0:
            handle = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)  # closed by the outermost holder
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
            except BaseException:
                os.close(handle)
                raise
            _handles[key] = handle
        _depth[key] = _depth.get(key, 0) + 1
        try:
            yield
        finally:
            _depth[key] -= 1
            if _depth[key] == 0:
                handle = _handles.pop(key)
                fcntl.flock(handle, fcntl.LOCK_UN)
                os.close(handle)
