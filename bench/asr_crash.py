"""What a crash costs a transcription: kill -9 half-way, resume from the checkpoint, compare with one clean run.

Three child processes transcribe the same espeak-ng lecture with a checkpoint folder, as the job does:
  1. a clean run from start to finish (the baseline);
  2. a run killed with SIGKILL half-way through (by wall time);
  3. a run that resumes from the killed run's checkpoint.
The cost of the crash is the CPU time of 2 + 3 minus the CPU time of 1: the restart (loading the model,
decoding the audio, VAD) plus the window that was in flight. CPU time of each child comes from
``getrusage(RUSAGE_CHILDREN)``, so other load on the machine hardly moves it.
Run: ``.venv/bin/python bench/asr_crash.py [--passes 1]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asr_lecture import build_lecture  # noqa: E402


def child(audio: str, checkpoint: str, home: str) -> None:
    """Transcribe ``audio`` with a checkpoint (what the job does) and print a summary as JSON."""
    from diemcau.adapters.whisper_model import load_whisper_model
    from diemcau.asr.pipeline import options_from_settings, transcribe_audio
    from diemcau.settings import load_settings

    settings = load_settings({"DIEMCAU_HOME": home})
    loaded = load_whisper_model(settings)
    transcript = transcribe_audio(
        loaded.model, loaded.describe(), Path(audio), "bench", options_from_settings(settings), Path(checkpoint)
    )
    print(json.dumps({key: transcript.settings[key] for key in ("windows", "resumed_windows")}))


def run_child(audio: Path, checkpoint: Path, home: Path, kill_after: float | None = None) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds and output of one child run (killed after ``kill_after`` s if given)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", str(audio), str(checkpoint), str(home)], stdout=subprocess.PIPE, text=True
    )
    if kill_after is not None:
        time.sleep(kill_after)
        process.send_signal(signal.SIGKILL)
    output, _ = process.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - started, cpu, output.strip()


def windows_in(checkpoint: Path) -> int:
    """Finished windows recorded in a checkpoint folder."""
    try:
        return max(0, len((checkpoint / "windows.jsonl").read_text().splitlines()) - 1)
    except FileNotFoundError:
        return 0


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=1, help="times each paragraph is read (1 → ~2.7 min)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="asr-crash-"))
    lecture = build_lecture(work, args.passes)
    home = work / "var"
    wall, clean_cpu, output = run_child(lecture.audio, work / "clean", home)
    windows = json.loads(output)["windows"]
    print(f"lecture {lecture.duration:.0f} s, {windows} windows; clean run: {wall:.1f} s wall, {clean_cpu:.1f} s CPU")
    _, killed_cpu, _ = run_child(lecture.audio, work / "crash", home, kill_after=wall / 2)
    done = windows_in(work / "crash")
    print(f"killed after {wall / 2:.1f} s: {killed_cpu:.1f} s CPU spent, {done} of {windows} windows checkpointed")
    _, resumed_cpu, output = run_child(lecture.audio, work / "crash", home)
    print(
        f"resumed: {resumed_cpu:.1f} s CPU, {json.loads(output)['resumed_windows']} windows taken from the checkpoint"
    )
    cost = killed_cpu + resumed_cpu - clean_cpu
    print(
        f"cost of the crash: {cost:.1f} s CPU = {100 * cost / clean_cpu:.1f} % of a clean run "
        f"(starting over would cost {killed_cpu:.1f} s = {100 * killed_cpu / clean_cpu:.0f} %)"
    )


if __name__ == "__main__":
    main()
