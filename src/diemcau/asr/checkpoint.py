"""Checkpoints of a transcription: every finished window appended to a JSON-lines file, fsynced.

The first line is a header with a *fingerprint* of the work (the audio's SHA-256, the model, the decoding,
VAD and window options): a checkpoint made for other audio or other settings is discarded, never mixed in.
Each further line is one finished window with its segments. Appending a line is the whole write, so a
``kill -9`` can at worst leave a torn last line, which loading ignores: a crash costs the window (or batch)
in flight and nothing before it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from diemcau.asr.decoding import WindowResult
from diemcau.asr.vad import SpeechSpan
from diemcau.asr.windows import Window
from diemcau.core.transcript import Segment, Word
from diemcau.core.transcript_json import segment_to_dict

FILE_NAME = "windows.jsonl"
FORMAT = 1


def fingerprint(parts: Mapping[str, Any]) -> str:
    """A stable digest of what determines the output (JSON with sorted keys)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _window_to_dict(result: WindowResult) -> dict[str, Any]:
    window = result.window
    return {
        "window": window.index,
        "start": window.start,
        "end": window.end,
        "speech": [[s.start, s.end] for s in window.speech],
        "attempt": result.attempt,
        "notes": list(result.notes),
        "decode_seconds": round(result.decode_seconds, 3),
        "segments": [segment_to_dict(s) for s in result.segments],
    }


def _segment_from_dict(data: dict[str, Any]) -> Segment:
    words = tuple(Word(w["start"], w["end"], w["text"], w["probability"]) for w in data["words"])
    return Segment(data["index"], data["start"], data["end"], data["text"], words)


def _window_from_dict(data: dict[str, Any]) -> WindowResult:
    speech = tuple(SpeechSpan(start, end) for start, end in data["speech"])
    window = Window(data["window"], data["start"], data["end"], speech)
    segments = tuple(_segment_from_dict(s) for s in data["segments"])
    return WindowResult(window, segments, tuple(data["notes"]), data["decode_seconds"], data["attempt"])


class Checkpoint:
    """The finished windows of one lecture's transcription, kept in ``folder``."""

    def __init__(self, folder: Path, digest: str) -> None:
        self.folder, self.digest = folder, digest
        self.path = folder / FILE_NAME

    def load(self) -> dict[int, WindowResult]:
        """The windows finished so far (none if the file is missing, for other work, or unreadable)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return {}
        if not lines or _parse(lines[0]) != {"format": FORMAT, "fingerprint": self.digest}:
            return {}
        done: dict[int, WindowResult] = {}
        for line in lines[1:]:
            data = _parse(line)
            if data is not None:  # None: a line torn by a crash; every line stands alone, so skip it
                result = _window_from_dict(data)
                done[result.window.index] = result
        return done

    def start(self) -> None:
        """Begin a fresh checkpoint (dropping any other) unless one for this work exists."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._header_matches():
            return
        self._append({"format": FORMAT, "fingerprint": self.digest}, mode="w")

    def record(self, result: WindowResult) -> None:
        """Append one finished window (durably: flushed and fsynced before returning)."""
        self._append(_window_to_dict(result))

    def discard(self) -> None:
        """Remove the checkpoint (the transcript is in the store)."""
        self.path.unlink(missing_ok=True)

    def _header_matches(self) -> bool:
        try:
            with self.path.open(encoding="utf-8") as handle:
                return _parse(handle.readline()) == {"format": FORMAT, "fingerprint": self.digest}
        except FileNotFoundError:
            return False

    def _append(self, data: dict[str, Any], mode: str = "a") -> None:
        line = json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self.path.open(mode, encoding="utf-8") as handle:
            if mode == "a" and handle.tell() > 0:
                self._end_torn_line(handle)
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def _end_torn_line(self, handle: Any) -> None:
        with self.path.open("rb") as reader:
            reader.seek(-1, os.SEEK_END)
            if reader.read(1) != b"\n":
                handle.write("\n")  # a crash tore the last line: close it so the next one stands alone


def _parse(line: str) -> dict[str, Any] | None:
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None
