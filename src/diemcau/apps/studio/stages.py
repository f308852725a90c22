"""Where a published lecture stands, as the four steps a trainer thinks in: fetch, transcode, transcribe, index.

Pure: it reads the lecture as ``GET /api/lectures/{id}`` returns it (``status``, the reported job's ``stage``,
``progress`` and ``error``, the ``transcript`` state). The API reports one job at a time — the ingest job while
the lecture is processing, then the transcription job — so each step's state follows from which job is
reported and how far it got. Search indexing runs as each transcript is written (the store's hook), so the
index step finishes with the transcription.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

STEPS = ("fetch", "transcode", "transcribe", "index")
FETCH_STAGES = frozenset({"", "fetch", "probe"})
TRANSCRIBE_STAGES = frozenset({"load", "decode", "transcribe", "write", "done"})


class StepState(StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Step:
    """One step: its name (a key of ``STEPS``), state, percent done (0–100) and, when failed, why."""

    name: str
    state: StepState
    percent: float = 0.0
    error: str = ""


def _processing(lecture: dict[str, Any]) -> list[Step]:
    stage, percent = lecture.get("stage", ""), float(lecture.get("progress") or 0.0)
    if stage in FETCH_STAGES:
        return [Step("fetch", StepState.RUNNING, percent), Step("transcode", StepState.WAITING)]
    return [Step("fetch", StepState.DONE, 100.0), Step("transcode", StepState.RUNNING, percent)]


def _failed(lecture: dict[str, Any]) -> list[Step]:
    error = lecture.get("error", "")
    if lecture.get("stage", "") in FETCH_STAGES:
        return [Step("fetch", StepState.FAILED, error=error), Step("transcode", StepState.WAITING)]
    return [Step("fetch", StepState.DONE, 100.0), Step("transcode", StepState.FAILED, error=error)]


def _transcription(lecture: dict[str, Any]) -> list[Step]:
    state, stage = lecture.get("transcript", ""), lecture.get("stage", "")
    if state != "queued":  # skipped on request, or no transcriber installed (pending)
        return [Step("transcribe", StepState.SKIPPED), Step("index", StepState.SKIPPED)]
    if stage not in TRANSCRIBE_STAGES:  # the ingest job is still the one reported: transcription not started
        return [Step("transcribe", StepState.WAITING), Step("index", StepState.WAITING)]
    if lecture.get("error"):
        return [Step("transcribe", StepState.FAILED, error=lecture["error"]), Step("index", StepState.WAITING)]
    if stage == "done":
        return [Step("transcribe", StepState.DONE, 100.0), Step("index", StepState.DONE, 100.0)]
    percent = float(lecture.get("progress") or 0.0)
    return [Step("transcribe", StepState.RUNNING, percent), Step("index", StepState.RUNNING, percent)]


def lecture_steps(lecture: dict[str, Any]) -> list[Step]:
    """The four steps of a lecture's publishing, in order."""
    status = lecture.get("status")
    if status == "processing":
        return [*_processing(lecture), Step("transcribe", StepState.WAITING), Step("index", StepState.WAITING)]
    if status == "failed":
        return [*_failed(lecture), Step("transcribe", StepState.WAITING), Step("index", StepState.WAITING)]
    done = [Step("fetch", StepState.DONE, 100.0), Step("transcode", StepState.DONE, 100.0)]
    return done + _transcription(lecture)


def is_settled(steps: list[Step]) -> bool:
    """Is there nothing left to wait for (every step done, skipped, or one failed)?"""
    return any(s.state == StepState.FAILED for s in steps) or all(
        s.state in (StepState.DONE, StepState.SKIPPED) for s in steps
    )
