"""The ingest pipeline: an explicit ordered list of stages, each checkpointed when it finishes.

A stage's output (a small JSON value) is recorded by the ``RunLog`` once the stage is done; a run started
again — after a crash, on another worker — skips every stage with a checkpoint whose files are still there.
Stages write only into the run's work folder; the store receives the finished folder in the last stage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from diemcau.adapters.media_store import MediaStore
from diemcau.core.egress import EgressPolicy
from diemcau.media.audio_file import AUDIO_FILE, make_audio_file
from diemcau.media.fetch import fetch
from diemcau.media.ffmpeg import Progress
from diemcau.media.package import MASTER, package
from diemcau.media.poster import POSTER, make_poster
from diemcau.media.probe import probe
from diemcau.media.transcode import plan_renditions, transcode
from diemcau.media.types import FetchedSource, Limits, MediaInfo, Rendition, RenditionSpec

Checkpoints = Mapping[str, dict[str, Any]]
OUT = "out"  # the folder, inside the work folder, that becomes media/<sha256>/


@dataclass(frozen=True)
class IngestContext:
    """What every stage of one run may read."""

    source: str
    work_dir: Path
    limits: Limits
    store: MediaStore
    preset: str = "veryfast"
    egress: EgressPolicy = EgressPolicy()  # where a URL fetch may connect

    @property
    def out_dir(self) -> Path:
        return self.work_dir / OUT


class RunLog(Protocol):
    """Where a run keeps its checkpoints and reports progress (the database, in ``jobs.ingest``)."""

    def checkpoints(self) -> dict[str, dict[str, Any]]:
        """The outputs of the stages finished so far."""
        ...

    def started(self, stage: str) -> None:
        """A stage begins (counted, so tests and operators can see what was redone)."""
        ...

    def finished(self, stage: str, output: dict[str, Any]) -> None:
        """A stage is done: record its output, durably, before the next one starts."""
        ...

    def progress(self, stage: str, percent: float) -> None:
        """How far the whole run is (0–100), while ``stage`` runs."""
        ...


@dataclass(frozen=True)
class Stage:
    """One step: ``run`` returns the JSON output to checkpoint; ``outputs`` are the files it leaves behind."""

    name: str
    weight: float
    run: Callable[[IngestContext, Checkpoints, Progress], dict[str, Any]]
    outputs: Callable[[IngestContext, Checkpoints], list[Path]] = lambda ctx, done: []


def fetched(done: Checkpoints) -> FetchedSource:
    return FetchedSource.from_json(done["fetch"])


def media_info(done: Checkpoints) -> MediaInfo:
    return MediaInfo.from_json(done["probe"])


def renditions(done: Checkpoints) -> list[Rendition]:
    """The renditions encoded so far, in stage order."""
    return [Rendition.from_json(output) for name, output in done.items() if name.startswith("rendition:")]


def reused(ctx: IngestContext, done: Checkpoints) -> bool:
    """Is this source's media already in the store (published before, by any course)?"""
    return "probe" in done and ctx.store.has(fetched(done).sha256)


def _fetch(ctx: IngestContext, done: Checkpoints, progress: Progress) -> dict[str, Any]:
    return fetch(ctx.source, ctx.work_dir, ctx.limits, progress, ctx.egress).to_json()


def _probe(ctx: IngestContext, done: Checkpoints, progress: Progress) -> dict[str, Any]:
    return probe(fetched(done), ctx.limits).to_json()


def _rendition_stage(spec: RenditionSpec) -> Stage:
    def run(ctx: IngestContext, done: Checkpoints, progress: Progress) -> dict[str, Any]:
        return transcode(fetched(done).path, media_info(done), spec, ctx.out_dir, ctx.preset, progress).to_json()

    def outputs(ctx: IngestContext, done: Checkpoints) -> list[Path]:
        return [ctx.out_dir / spec.name / "index.m3u8"]

    return Stage(f"rendition:{spec.name}", 30.0 if spec.height >= 720 else 5.0 + spec.height / 24, run, outputs)


def _audio_file(ctx: IngestContext, done: Checkpoints, progress: Progress) -> dict[str, Any]:
    make_audio_file(ctx.out_dir, media_info(done).duration_seconds, progress)
    return {"file": AUDIO_FILE}


def _poster(ctx: IngestContext, done: Checkpoints, progress: Progress) -> dict[str, Any]:
    make_poster(fetched(done).path, media_info(done), ctx.out_dir, progress)
    return {"file": POSTER}


def _package(ctx: IngestContext, done: Checkpoints, progress: Progress) -> dict[str, Any]:
    package(ctx.out_dir, fetched(done).sha256, media_info(done), renditions(done))
    return {"file": MASTER}


def _publish(ctx: IngestContext, done: Checkpoints, progress: Progress) -> dict[str, Any]:
    if ctx.store.has(fetched(done).sha256):
        return {"reused": True}
    ctx.store.put(fetched(done).sha256, ctx.out_dir)
    return {"reused": False}


def _files(*names: str) -> Callable[[IngestContext, Checkpoints], list[Path]]:
    return lambda ctx, done: [ctx.out_dir / name for name in names]


FETCH = Stage("fetch", 10.0, _fetch, lambda ctx, done: [fetched(done).path])
PROBE = Stage("probe", 1.0, _probe)
AUDIO_FILE_STAGE = Stage("audio_file", 1.0, _audio_file, _files(AUDIO_FILE))
POSTER_STAGE = Stage("poster", 1.0, _poster, _files(POSTER))
PACKAGE = Stage("package", 0.5, _package, _files(MASTER))
PUBLISH = Stage("publish", 0.5, _publish)


def plan(ctx: IngestContext, done: Checkpoints) -> list[Stage]:
    """The ordered stages of a run, as far as what is known so far allows.

    Order matters: fetch gives the bytes and their sha256; probe validates before anything is stored (the
    lecture row appears only after it); audio-only is encoded first, as weak links need it most; the m4a is
    remuxed from the audio rendition, so it follows it; the master playlist lists every rendition, so it
    follows them all; publishing into the store comes last, so a half lecture is never visible.
    """
    if "probe" not in done:
        return [FETCH, PROBE]
    if reused(ctx, done):  # same source as an earlier lecture: nothing to encode
        return [FETCH, PROBE, PUBLISH]
    ladder = [_rendition_stage(spec) for spec in plan_renditions(media_info(done))]
    return [FETCH, PROBE, *ladder, AUDIO_FILE_STAGE, POSTER_STAGE, PACKAGE, PUBLISH]


def _is_done(stage: Stage, ctx: IngestContext, done: Checkpoints) -> bool:
    if stage.name not in done:
        return False
    return all(path.exists() for path in stage.outputs(ctx, done))


def run_pipeline(ctx: IngestContext, log: RunLog, *, until: str | None = None) -> dict[str, dict[str, Any]]:
    """Run (or resume) the stages in order, stopping after ``until`` when given; returns the checkpoints.

    A checkpointed stage whose files went missing (a lost work folder) runs again, and so do those after it.
    """
    done = dict(log.checkpoints())
    position = 0
    while position < len(stages := plan(ctx, done)):
        stage = stages[position]
        if not _is_done(stage, ctx, done):
            done = {name: output for name, output in done.items() if _stage_index(stages, name) < position}
            done[stage.name] = _run_stage(stage, ctx, log, done, stages)
        if stage.name == until:
            break
        position += 1
    return done


def _stage_index(stages: list[Stage], name: str) -> int:
    return next((i for i, stage in enumerate(stages) if stage.name == name), len(stages))


def _run_stage(stage: Stage, ctx: IngestContext, log: RunLog, done: dict, stages: list[Stage]) -> dict[str, Any]:
    total = sum(s.weight for s in stages) if "probe" in done else 100.0
    before = sum(s.weight for s in stages if s.name in done)

    def progress(fraction: float) -> None:
        log.progress(stage.name, min(99.9, 100.0 * (before + stage.weight * fraction) / total))

    log.started(stage.name)
    progress(0.0)
    output = stage.run(ctx, done, progress)
    log.finished(stage.name, output)
    return output
