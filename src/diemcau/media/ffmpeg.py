"""Running ffmpeg and ffprobe: progress from ``-progress pipe:1``, failures as ``MediaError``."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from diemcau.media.errors import MediaError

Progress = Callable[[float], None]
"""Called with the fraction done (0.0–1.0) of the current stage."""


def no_progress(_fraction: float) -> None:
    """A progress callback that ignores what it is told."""


def ffprobe_json(path: Path) -> tuple[int, dict, str]:
    """ffprobe's JSON description of ``path``: (exit code, parsed output, stderr)."""
    command = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, errors="replace", check=False)
    try:
        data = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        data = {}
    return done.returncode, data, done.stderr


def run_ffmpeg(args: Sequence[str], duration: float = 0.0, progress: Progress = no_progress) -> None:
    """Run ``ffmpeg`` with ``args``, reporting progress against ``duration`` seconds of media.

    Raises ``MediaError("transcode_failed")`` with ffmpeg's last lines when it fails; a kill by a signal
    (out of memory, a stopped worker) is transient, since running it again may succeed.
    """
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-progress", "pipe:1", *args]
    # stderr goes to a file: a pipe nobody reads while we follow stdout could fill up and stall ffmpeg.
    with (
        tempfile.TemporaryFile("w+", errors="replace") as errors,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True, errors="replace") as process,
    ):
        assert process.stdout is not None
        for line in process.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and duration > 0 and value.isdigit():
                progress(min(1.0, int(value) / 1e6 / duration))
        process.wait()
        errors.seek(0)
        stderr = errors.read()
    if process.returncode != 0:
        detail = " | ".join(stderr.strip().splitlines()[-3:])[:500]
        raise MediaError("transcode_failed", transient=process.returncode < 0, detail=detail)
    progress(1.0)
