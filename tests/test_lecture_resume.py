"""Crash and resume: a real ``diemcau worker`` is killed with SIGKILL mid-ingest, and a new one finishes the job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from diemcau.adapters.db.engine import make_engine, make_sessionmaker
from diemcau.adapters.db.models import LectureRow
from diemcau.adapters.db.models_media import IngestRunRow
from tests.data_dirs import data_dir_environ
from tests.media_fixtures import make_long_video, make_video

DIEMCAU = str(Path(sys.executable).with_name("diemcau"))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A data directory with one course, as environment for subprocesses."""
    environ = {**os.environ, **data_dir_environ(tmp_path)}
    subprocess.run([DIEMCAU, "course", "create", "nq1", "--title", "Nghị quyết"], env=environ, check=True)
    return environ


@pytest.fixture
def workers(env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen]]:
    """Start ``diemcau worker`` processes, each in its own process group (so its ffmpeg dies with it)."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = (tmp_path / f"worker{len(started)}.log").open("w")
        process = subprocess.Popen([DIEMCAU, "worker"], env=env, stdout=log, stderr=log, start_new_session=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_row(env: dict[str, str]) -> tuple[IngestRunRow, str | None]:
    """The only ingest run, and its lecture's status (``None`` without a lecture row)."""
    engine = make_engine(f"sqlite:///{Path(env['DIEMCAU_HOME']) / 'diemcau.sqlite'}")
    try:
        with make_sessionmaker(engine)() as session:
            run = session.scalars(select(IngestRunRow)).one()
            lecture = session.get(LectureRow, run.lecture_id)
            return run, lecture.status if lecture else None
    finally:
        engine.dispose()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_killed_worker_is_resumed_without_redoing_finished_stages(
    env: dict[str, str], workers: Callable[[], subprocess.Popen], tmp_path: Path
) -> None:
    """After SIGKILL of the worker mid-ingest and a restart, does the lecture become ready, with no finished
    stage redone and no half lecture visible in between?"""
    source = make_video(tmp_path / "hoi-nghi.mp4", seconds=8.0, size="1280x720")
    published = subprocess.run(
        [DIEMCAU, "lecture", "publish", str(source), "--course", "nq1", "--title", "Hội nghị", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lecture = json.loads(published.stdout.strip().splitlines()[-1])
    assert lecture["status"] == "processing"  # fetched and probed here; the rest waits for a worker

    first = workers()
    wait_until(lambda: "rendition:audio" in run_row(env)[0].checkpoints, "the first encoded stage")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()

    run, status = run_row(env)
    assert status == "processing" and run.status == "running"
    assert "publish" not in run.checkpoints
    media = Path(env["DIEMCAU_HOME"]) / "media"
    assert [p for p in media.iterdir() if p.name != ".staging"] == []  # nothing partial in the store

    workers()
    wait_until(lambda: run_row(env)[1] == "ready", "the resumed lecture to be ready")
    run, _ = run_row(env)
    runs = run.stage_runs
    assert runs["fetch"] == 1 and runs["probe"] == 1 and runs["rendition:audio"] == 1, runs
    assert all(count <= 2 for count in runs.values()), runs
    assert set(runs) >= {"rendition:v240", "rendition:v360", "rendition:v720", "publish"}
    folder = media / run.checkpoints["fetch"]["sha256"]
    assert (folder / "master.m3u8").is_file() and (folder / "v720" / "index.m3u8").is_file()
    assert not (Path(env["DIEMCAU_HOME"]) / "jobs" / "ingest" / run.id).exists()


def _group(pgid: int) -> list[int]:
    """The live processes of process group ``pgid`` (a worker started by the hub leads its own)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split() if stat else []
        if fields and fields[0] != "Z" and int(fields[3]) == pgid:
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone meanwhile
        return b""


def test_a_stopped_worker_abandons_its_job_and_ends_its_ffmpeg(
    env: dict[str, str], workers: Callable[[], subprocess.Popen], tmp_path: Path
) -> None:
    """Stopped as the hub stops a service (SIGINT, in a session of its own) in the middle of a long ingest, does the
    worker exit without waiting for the job, take its ffmpeg with it, and leave the run to be resumed?"""
    source = make_long_video(tmp_path / "dai-hoi.mp4", seconds=240.0, size="1280x720")
    subprocess.run(
        [DIEMCAU, "lecture", "publish", str(source), "--course", "nq1", "--title", "Đại hội", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    worker = workers()
    wait_until(lambda: any(b"ffmpeg" in _cmdline(pid) for pid in _group(worker.pid)), "the worker's ffmpeg")
    worker.send_signal(signal.SIGINT)
    worker.wait(timeout=60)  # liveness: the whole ingest of four minutes of 720p takes far longer here
    wait_until(lambda: not _group(worker.pid), "the worker's process group to empty", timeout=30)
    run, status = run_row(env)
    assert status == "processing" and run.status == "running" and "publish" not in run.checkpoints
