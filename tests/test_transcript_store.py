"""The transcript store: four files per lecture, written atomically, read back, and announced to hooks."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path

import pytest
import webvtt

from diemcau.adapters import transcript_store as store
from diemcau.core.captions import parse_srt, parse_vtt
from diemcau.core.transcript import Segment, Transcript
from diemcau.core.transcript_json import TranscriptFormatError
from tests.transcript_fixtures import sample_transcript

FILES = ["transcript.json", "transcript.srt", "transcript.txt", "transcript.vtt"]


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != ".lock")


def test_round_trip_of_every_file(tmp_path: Path) -> None:
    """Does a written transcript read back equal, and do its VTT (ours and webvtt-py), SRT and TXT agree?"""
    transcript = sample_transcript()
    folder = store.write_transcript(tmp_path, transcript)
    assert _visible(folder) == FILES
    assert store.transcript_exists(tmp_path, transcript.lecture_id)
    assert store.load_transcript(tmp_path, transcript.lecture_id) == transcript
    data = json.loads((folder / "transcript.json").read_text(encoding="utf-8"))
    assert {"version", "source", "model", "settings", "segments"} <= set(data)
    assert set(data["segments"][0]["words"][0]) == {"start", "end", "text", "probability"}
    spans = [(s.start, s.end, s.text) for s in transcript.segments]
    vtt = (folder / "transcript.vtt").read_text(encoding="utf-8")
    assert [(c.start, c.end, c.text) for c in parse_vtt(vtt).cues] == spans
    assert [c.text for c in webvtt.from_buffer(io.StringIO(vtt))] == [s.text for s in transcript.segments]
    srt = (folder / "transcript.srt").read_text(encoding="utf-8")
    assert [(c.start, c.end, c.text) for c in parse_srt(srt).cues] == spans
    assert (folder / "transcript.txt").read_text(encoding="utf-8").splitlines() == [s[2] for s in spans]


def test_missing_and_corrupt_transcripts(tmp_path: Path) -> None:
    """Is a lecture without a transcript None, and a corrupt JSON a named format error?"""
    assert store.load_transcript(tmp_path, "nothing") is None
    assert not store.transcript_exists(tmp_path, "nothing")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "transcript.json").write_text('{"lecture_id": "broken"}', encoding="utf-8")
    with pytest.raises(TranscriptFormatError, match="segments"):
        store.load_transcript(tmp_path, "broken")


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", ".hidden", "x" * 65])
def test_lecture_ids_cannot_escape_the_store(tmp_path: Path, bad: str) -> None:
    """Is a lecture id that could name a path outside the store refused?"""
    with pytest.raises(ValueError):
        store.lecture_dir(tmp_path, bad)


class ExplodingText(str):
    """A segment text that fails when written out, as a full disk would, midway through the set."""

    def splitlines(self, *args: object) -> list[str]:  # used by the caption renderers
        raise OSError(28, "No space left on device")


def test_a_failed_write_leaves_the_old_set_intact(tmp_path: Path) -> None:
    """Does a failure while writing keep every old file unchanged and leave no temporary file?"""
    old = sample_transcript()
    folder = store.write_transcript(tmp_path, old)
    before = {name: (folder / name).read_bytes() for name in FILES}
    broken = Transcript(old.lecture_id, "vi", (Segment(0, 0.0, 1.0, ExplodingText("x")),))
    with pytest.raises(OSError):
        store.write_transcript(tmp_path, broken)
    assert {name: (folder / name).read_bytes() for name in FILES} == before
    assert _visible(folder) == FILES


def test_a_failure_while_staging_removes_the_temporaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the disk fills while the temporary files are written, are they all removed and the old set kept?"""
    old = sample_transcript()
    folder = store.write_transcript(tmp_path, old)
    before = {name: (folder / name).read_bytes() for name in FILES}
    real_fsync, calls = os.fsync, []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 3:  # the third staged file
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(store.os, "fsync", failing_fsync)
    new = Transcript(old.lecture_id, "vi", (Segment(0, 0.0, 1.0, "mới"),))
    with pytest.raises(OSError):
        store.write_transcript(tmp_path, new)
    assert _visible(folder) == FILES
    assert {name: (folder / name).read_bytes() for name in FILES} == before


def test_json_is_renamed_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Is transcript.json the commit point, renamed into place after the derived files?"""
    order: list[str] = []
    real_replace = os.replace
    monkeypatch.setattr(store.os, "replace", lambda a, b: (order.append(Path(b).name), real_replace(a, b)))
    store.write_transcript(tmp_path, sample_transcript())
    assert order[-1] == "transcript.json" and sorted(order) == FILES


def test_repair_rerenders_derived_files_after_a_crash(tmp_path: Path) -> None:
    """After a crash between renames (a VTT ahead of its JSON), does repair make the set agree again?"""
    transcript = sample_transcript()
    folder = store.write_transcript(tmp_path, transcript)
    (folder / "transcript.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nnewer\n", encoding="utf-8")
    assert store.repair_outputs(tmp_path, transcript.lecture_id) == ["transcript.vtt"]
    assert "Kính thưa" in (folder / "transcript.vtt").read_text(encoding="utf-8")
    assert store.repair_outputs(tmp_path, transcript.lecture_id) == []


def test_keep_previous_copies_the_current_json(tmp_path: Path) -> None:
    """Is the current transcript kept as transcript.prev.json before it is replaced?"""
    first = sample_transcript()
    assert store.keep_previous(tmp_path, first.lecture_id) is None
    store.write_transcript(tmp_path, first)
    store.keep_previous(tmp_path, first.lecture_id)
    store.write_transcript(tmp_path, Transcript(first.lecture_id, "vi", ()))
    assert store.load_previous_transcript(tmp_path, first.lecture_id) == first


def test_concurrent_writers_never_mix_sets(tmp_path: Path) -> None:
    """With writers racing on one lecture, does every final file come from one and the same transcript?"""
    versions = [Transcript("race", "vi", (Segment(0, 0.0, 1.0, f"phiên bản {n}"),)) for n in range(8)]
    threads = [threading.Thread(target=store.write_transcript, args=(tmp_path, v)) for v in versions for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    folder = tmp_path / "race"
    winner = store.load_transcript(tmp_path, "race")
    assert winner is not None and store.repair_outputs(tmp_path, "race") == []
    assert (folder / "transcript.txt").read_text(encoding="utf-8") == winner.segments[0].text + "\n"
    assert _visible(folder) == FILES
