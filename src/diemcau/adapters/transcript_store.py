"""The transcript store: ``<transcripts_dir>/<lecture_id>/transcript.{json,vtt,srt,txt}``.

**Consistency.** ``transcript.json`` is the source of truth; the ``.vtt``, ``.srt`` and ``.txt`` files are
renderings of it for players and people. ``write_transcript`` first writes *all four* files to temporary
files beside their targets (and fsyncs them), so any failure while producing them (a full disk, a bad
value) removes the temporaries and leaves the old set untouched. Only then does it rename them into place,
each with ``os.replace`` (atomic), the derived files first and **``transcript.json`` last**: the JSON rename
is the commit point. Every reader in this project reads ``transcript.json`` (the API renders the player's
WebVTT from it), so no reader ever sees a mix of two versions. A crash between the renames can leave a
derived file one version ahead of the JSON; ``repair_outputs`` re-renders them from the JSON, and the next
write replaces them anyway. Writers of one lecture are serialised by ``lecture_lock`` (a re-entrant,
cross-process file lock), so two writers cannot interleave their renames.

The store knows nothing of search: every writer of a transcript (transcription, caption import, correction)
calls ``search.content.content_changed`` itself after the write.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

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


def lecture_dir(transcripts_dir: Path, lecture_id: str) -> Path:
    """The folder of one lecture's transcript. Refuses ids that could escape the store (``..``, ``/``)."""
    if not _LECTURE_ID.match(lecture_id) or ".." in lecture_id:
        raise ValueError(f"not a valid lecture id for the transcript store: {lecture_id!r}")
    return Path(transcripts_dir) / lecture_id


def transcript_exists(transcripts_dir: Path, lecture_id: str) -> bool:
    """Whether the lecture has a transcript in the store."""
    return (lecture_dir(transcripts_dir, lecture_id) / JSON_NAME).is_file()


def load_transcript(transcripts_dir: Path, lecture_id: str) -> Transcript | None:
    """The lecture's transcript, or None when it has none. Raises ``TranscriptFormatError`` if corrupt."""
    return _load(lecture_dir(transcripts_dir, lecture_id) / JSON_NAME)


def load_previous_transcript(transcripts_dir: Path, lecture_id: str) -> Transcript | None:
    """The transcript that the last re-transcription or import replaced (``transcript.prev.json``), if any."""
    return _load(lecture_dir(transcripts_dir, lecture_id) / PREVIOUS_NAME)


def _load(path: Path) -> Transcript | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return transcript_from_dict(json.loads(text))


def write_transcript(transcripts_dir: Path, transcript: Transcript) -> Path:
    """Write the transcript's JSON, WebVTT, SRT and TXT files atomically; return the lecture's folder.

    The JSON is renamed into place last (see the module doc).
    """
    folder = lecture_dir(transcripts_dir, transcript.lecture_id)
    folder.mkdir(parents=True, exist_ok=True)
    contents = {name: render(transcript) for name, render in DERIVED.items()}
    contents[JSON_NAME] = _json_text(transcript)  # last: the commit point
    with lecture_lock(transcripts_dir, transcript.lecture_id):
        staged = _stage(folder, contents)
        for name, temp in staged.items():
            os.replace(temp, folder / name)
        _fsync_dir(folder)
    return folder


def keep_previous(transcripts_dir: Path, lecture_id: str) -> Path | None:
    """Copy the current ``transcript.json`` to ``transcript.prev.json`` (atomically); None if there is none."""
    folder = lecture_dir(transcripts_dir, lecture_id)
    with lecture_lock(transcripts_dir, lecture_id):
        try:
            current = (folder / JSON_NAME).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        staged = _stage(folder, {PREVIOUS_NAME: current})
        os.replace(staged[PREVIOUS_NAME], folder / PREVIOUS_NAME)
    return folder / PREVIOUS_NAME


def repair_outputs(transcripts_dir: Path, lecture_id: str) -> list[str]:
    """Re-render derived files that differ from ``transcript.json`` (after a crash); return their names."""
    with lecture_lock(transcripts_dir, lecture_id):
        transcript = load_transcript(transcripts_dir, lecture_id)
        if transcript is None:
            return []
        folder = lecture_dir(transcripts_dir, lecture_id)
        stale = {name: render(transcript) for name, render in DERIVED.items()}
        stale = {name: text for name, text in stale.items() if _read_or_none(folder / name) != text}
        for name, temp in _stage(folder, stale).items():
            os.replace(temp, folder / name)
    return sorted(stale)


def _json_text(transcript: Transcript) -> str:
    """One segment per line: readable and diff-friendly, yet encoded by json's fast C encoder (``indent``
    would force the pure-Python one, which took most of the time of a two-hour lecture's write)."""
    data = transcript_to_dict(transcript)
    segments = data.pop("segments")
    head = json.dumps(data, ensure_ascii=False)[:-1]
    body = ",\n".join(json.dumps(s, ensure_ascii=False) for s in segments)
    return f'{head}, "segments": [\n{body}\n]}}\n' if segments else f'{head}, "segments": []}}\n'


def _read_or_none(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _stage(folder: Path, contents: dict[str, str]) -> dict[str, Path]:
    """Write each text to a temporary file in ``folder``; on any failure remove them all and re-raise."""
    staged: dict[str, Path] = {}
    try:
        for name, text in contents.items():
            fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
            staged[name] = Path(temp)
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        for temp in staged.values():
            temp.unlink(missing_ok=True)
        raise
    return staged


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_registry_guard = threading.Lock()
_thread_locks: dict[Path, threading.RLock] = {}
_depth: dict[Path, int] = {}
_handles: dict[Path, object] = {}


@contextlib.contextmanager
def lecture_lock(transcripts_dir: Path, lecture_id: str) -> Iterator[None]:
    """Hold the lecture's writer lock: re-entrant within a thread, exclusive across threads and processes."""
    folder = lecture_dir(transcripts_dir, lecture_id)
    folder.mkdir(parents=True, exist_ok=True)
    key = folder.absolute()
    with _registry_guard:
        thread_lock = _thread_locks.setdefault(key, threading.RLock())
    with thread_lock:  # only the holder of thread_lock touches _depth[key] and _handles[key]
        if _depth.get(key, 0) == 0:
            handle = open(folder / ".lock", "a+")  # noqa: SIM115 - closed when the outermost holder leaves
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            _handles[key] = handle
        _depth[key] = _depth.get(key, 0) + 1
        try:
            yield
        finally:
            _depth[key] -= 1
            if _depth[key] == 0:
                handle = _handles.pop(key)
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)  # type: ignore[attr-defined]
                handle.close()  # type: ignore[attr-defined]
