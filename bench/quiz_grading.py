"""Quiz grading speed: sustained submissions/s and p95 submit→score through the API, versus nbgrader autograde.

One run, one data directory, one 20-question choice-only quiz released through nbgrader:

- baseline 1: ``nbgrader autograde`` from the CLI, one submission per call (what the issue measured: ~6.6 s);
- baseline 2: nbgrader's ``Autograde`` converter in-process, stock preprocessors (a kernel per submission);
- the same converter with ``EvaluateWithoutKernel`` (our preprocessor, no kernel);
- ``QuizGrader`` in one process (nbgrader's steps on the notebook in memory, one gradebook transaction);
- the system: the API service (uvicorn, one process) storing submissions and queueing them, two huey *process*
  workers grading them, and a load generator posting as distinct members at a fixed rate. A rate counts as
  sustained when every submission is graded and the queue drains within a second of the last one. Latency is
  submit→score: from the moment the request is sent to the ``graded_at`` the worker stamps on the row.

The hub's token check is the one edge replaced (``BenchTokenIdentity``: the bearer token is the username);
everything else is the real service. Run: `.venv/bin/python bench/quiz_grading.py` (``--rates 40,60``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
QUESTIONS = 20
COURSE, QUIZ = "bench-course", "tuan-1"


def environment(home: Path) -> dict[str, str]:
    return {
        **os.environ, "DIEMCAU_HOME": str(home / "var"), "DIEMCAU_CONTENT__COURSES_DIR": str(home / "courses"),
        "DIEMCAU_CONTENT__TRANSCRIPTS_DIR": str(home / "transcripts"),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }  # fmt: skip


def spec_text() -> str:
    lines = ["title: Trắc nghiệm tuần (20 câu)", "attempts: 1", "questions:"]
    for i in range(QUESTIONS):
        lines += [
            f"  - id: q{i + 1}", "    type: single", f"    text: Câu hỏi số {i + 1}?",
            "    options: [Phương án một, Phương án hai, Phương án ba, Phương án bốn]", f"    answer: {'ABCD'[i % 4]}",
        ]  # fmt: skip
    return "\n".join(lines) + "\n"


def answers_for(n: int) -> dict[str, str]:
    """A member's answers: about half right."""
    return {f"q{i + 1}": "ABCD"[(i * (n % 3 + 1)) % 4] for i in range(QUESTIONS)}


def prepare(home: Path, members: int):  # type: ignore[no-untyped-def]
    """Data directory, a course for one big cell of ``members`` members, the quiz released."""
    from diemcau.adapters.db.engine import transaction
    from diemcau.adapters.db.models import CourseRow, MemberRow, OrgUnitRow
    from diemcau.apps import setup_steps
    from diemcau.quizzes.publish import release
    from diemcau.settings import load_settings

    settings = load_settings(environment(home))
    setup_steps.ensure_data_dir(settings)
    factory = setup_steps.ensure_database(settings)
    with transaction(factory) as session:
        cell = OrgUnitRow(code="cb-bench", name="Chi bộ đo tải", kind="cell", path="/cb-bench/")
        session.add(cell)
        session.flush()
        session.add(CourseRow(id=COURSE, title="Chuyên đề đo tải", resolutions=[], completion_rule={}, audience=[cell]))
        session.add_all(MemberRow(card_number=f"9{n:07d}", full_name=f"Đảng viên {n}", org_unit_id=cell.id)
                        for n in range(members))  # fmt: skip
    path = settings.courses_dir / COURSE / "quizzes" / f"{QUIZ}.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(spec_text(), encoding="utf-8")
    release(settings, factory, COURSE, QUIZ)
    return settings, factory


def write_submitted(settings, student: str) -> None:  # type: ignore[no-untyped-def]
    from diemcau.adapters.nbgrader.course_dir import course_root
    from diemcau.adapters.nbgrader.release import notebook_path, read_notebook
    from diemcau.adapters.nbgrader.submission import write_submission

    root = course_root(settings, COURSE)
    released = read_notebook(notebook_path(root, "release", QUIZ))
    write_submission(root, released, QUIZ, student, answers_for(len(student)), dt.datetime.now(dt.UTC))


def time_cli(settings, rounds: int) -> float:  # type: ignore[no-untyped-def]
    from diemcau.adapters.nbgrader.course_dir import course_root

    times = []
    for n in range(rounds):
        write_submitted(settings, f"cli{n}")
        start = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).parent / "nbgrader"), "autograde", QUIZ, "--student", f"cli{n}", "--force"],
            cwd=course_root(settings, COURSE), env=environment(settings.home.parent), check=True, capture_output=True,
        )  # fmt: skip
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_converter(settings, rounds: int, kernel: bool) -> float:  # type: ignore[no-untyped-def]
    from diemcau.adapters.nbgrader.autograde import autograde_config, run_autograde

    config = autograde_config(settings, COURSE, kernel=kernel)
    times = []
    for n in range(rounds + 1):
        student = f"{'k' if kernel else 'f'}{n}"
        write_submitted(settings, student)
        start = time.perf_counter()
        run_autograde(config, QUIZ, student)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])  # the first call pays imports and caches


def time_grader(settings, rounds: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Wall and CPU seconds per submission of QuizGrader in this one process."""
    from diemcau.adapters.nbgrader.grader import QuizGrader, QuizSubmission

    grader = QuizGrader(settings, COURSE)
    grader.grade(QuizSubmission(QUIZ, "warm", answers_for(1), dt.datetime.now(dt.UTC)))
    start, cpu = time.perf_counter(), time.process_time()
    for n in range(rounds):
        grader.grade(QuizSubmission(QUIZ, f"g{n}", answers_for(n), dt.datetime.now(dt.UTC)))
    return (time.perf_counter() - start) / rounds, (time.process_time() - cpu) / rounds


class BenchTokenIdentity:
    """Stands in for the hub's token check: ``Authorization: Bearer <username>``. Everything behind it is real."""

    async def username_for(self, request):  # type: ignore[no-untyped-def]
        header = request.headers.get("authorization", "")
        return header.split(" ", 1)[1] if header.startswith("Bearer ") else None

    def login_redirect(self, request):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    async def complete_login(self, request):  # type: ignore[no-untyped-def]
        raise NotImplementedError


def serve(port: int) -> None:
    """Run the API service (one uvicorn process) on ``port``, as the bench's server subprocess."""
    import logging

    import uvicorn

    from diemcau.apps.api.app import create_app
    from diemcau.settings import load_settings

    logging.getLogger("diemcau").setLevel(logging.WARNING)
    app = create_app(load_settings(), BenchTokenIdentity())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, timeout_keep_alive=60)


def work(processes: int) -> None:
    """Run a huey consumer with ``processes`` worker processes, as the bench's worker subprocess."""
    from diemcau.jobs import quiz_tasks
    from diemcau.jobs.registry import load_tasks
    from diemcau.settings import load_settings

    settings = load_settings()
    load_tasks()
    queue = quiz_tasks.ensure_queue(settings)
    queue.create_consumer(workers=processes, worker_type="process", periodic=False, initial_delay=0.01).run()


def _spawn(role: str, home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, role, *args], env=environment(home), cwd=REPO)


async def _post(client, port: int, n: int, sent: dict[str, float]):  # type: ignore[no-untyped-def]
    import httpx

    card = f"9{n:07d}"
    url = f"http://127.0.0.1:{port}/services/diemcau/api/quizzes/{COURSE}/{QUIZ}/submissions"
    sent_at = time.time()
    for attempt in range(3):  # a keep-alive connection the server just closed: send again (same client id)
        try:
            response = await client.post(
                url, json={"client_id": f"bench-{n:08d}", "answers": answers_for(n)},
                headers={"Authorization": f"Bearer {card}"},
            )  # fmt: skip
            break
        except httpx.TransportError:
            if attempt == 2:
                raise
    response.raise_for_status()
    sent[response.json()["id"]] = sent_at


async def offer_load(port: int, rate: float, seconds: float, first: int) -> tuple[dict[str, float], float]:
    """Post ``rate`` submissions per second for ``seconds`` (open loop); returns send times by submission id."""
    import httpx

    sent: dict[str, float] = {}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        start, tasks = time.monotonic(), []
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_post(client, port, first + i, sent)))
        await asyncio.gather(*tasks)
    return sent, time.time()


def graded_times(factory, ids: set[str], timeout: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from diemcau.adapters.db.models_quiz import QuizSubmissionRow

    deadline = time.monotonic() + timeout
    while True:
        with factory() as session:
            rows = session.execute(
                select(QuizSubmissionRow.id, QuizSubmissionRow.graded_at).where(QuizSubmissionRow.id.in_(ids))
            ).all()
        done = {i: g.replace(tzinfo=dt.UTC).timestamp() for i, g in rows if g is not None}
        if len(done) == len(ids) or time.monotonic() > deadline:
            return done
        time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live children (the huey worker processes)."""
    import psutil

    process = psutil.Process(pid)
    total = 0.0
    for proc in [process, *process.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def run_rate(factory, port: int, rate: float, seconds: float, first: int, pids: tuple[int, int]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    before = [cpu_seconds(pid) for pid in pids]
    sent, last_sent = asyncio.run(offer_load(port, rate, seconds, first))
    graded = graded_times(factory, set(sent), timeout=180)
    api_cpu, worker_cpu = (cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True))
    latencies = sorted(graded[i] - sent[i] for i in graded)
    drained = max(graded.values()) - last_sent if graded else float("inf")
    return {
        "rate": rate, "count": len(sent), "graded": len(graded),
        "throughput": len(graded) / (max(graded.values()) - min(sent.values())) if graded else 0.0,
        "p50": statistics.median(latencies), "p95": latencies[int(0.95 * (len(latencies) - 1))], "drain": drained,
        "api_ms": api_cpu / len(sent) * 1000, "worker_ms": worker_cpu / len(sent) * 1000,
    }  # fmt: skip


def wait_for_port(port: int) -> None:
    import httpx

    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/services/diemcau/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("API did not start")


def system(home: Path, factory, rates: list[float], seconds: float, processes: int) -> list[dict[str, float]]:  # type: ignore[no-untyped-def]
    from tests.hubserver import free_port

    port = free_port()
    server, worker = _spawn("serve", home, str(port)), _spawn("work", home, str(processes))
    try:
        wait_for_port(port)
        asyncio.run(offer_load(port, 5, 1, first=0))  # warm-up: imports, caches, gradebook layout
        results, first = [], 1000
        for rate in rates:
            results.append(run_rate(factory, port, rate, seconds, first, (server.pid, worker.pid)))
            first += int(rate * seconds)
        return results
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="30,50,70", help="Offered submissions/s, comma-separated.")
    parser.add_argument("--seconds", type=float, default=20, help="Length of each load step.")
    parser.add_argument("--processes", type=int, default=2, help="Grading worker processes.")
    parser.add_argument("--cli-rounds", type=int, default=3)
    options = parser.parse_args()
    rates = [float(r) for r in options.rates.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        members = 1000 + int(sum(rates) * options.seconds) + 100
        settings, factory = prepare(home, members)
        cli = time_cli(settings, options.cli_rounds)
        stock = time_converter(settings, 3, kernel=True)
        fast_converter = time_converter(settings, 5, kernel=False)
        grader_wall, grader_cpu = time_grader(settings, 200)
        steps = system(home, factory, rates, options.seconds, options.processes)
    print(f"{QUESTIONS}-question choice-only quiz, {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}")
    per = "ms per submission"
    print(f"baseline `nbgrader autograde` CLI (kernel):    {cli * 1000:9.0f} {per} (median of {options.cli_rounds})")
    print(f"baseline Autograde in-process (kernel):        {stock * 1000:9.0f} {per} (median of 3)")
    print(f"Autograde in-process + EvaluateWithoutKernel:  {fast_converter * 1000:9.0f} {per} (median of 5)")
    print(f"QuizGrader in-process (one process):           {grader_wall * 1000:9.1f} ms wall, "
          f"{grader_cpu * 1000:.1f} ms CPU per submission")  # fmt: skip
    print(
        "system: API (1 process) + huey workers "
        f"({options.processes} processes), open-loop load, submit→score from the request to graded_at:"
    )
    for s in steps:
        print(f"  offered {s['rate']:5.0f}/s  {s['count']:5.0f} sent  {s['graded']:5.0f} graded  "
              f"sustained {s['throughput']:6.1f}/s  p50 {s['p50']:5.2f} s  p95 {s['p95']:5.2f} s  "
              f"drained {s['drain']:+5.2f} s after the last")  # fmt: skip
        cpu = s["api_ms"] + s["worker_ms"]
        print(
            f"      CPU per submission: API {s['api_ms']:.1f} ms + grading {s['worker_ms']:.1f} ms = {cpu:.1f} ms "
            f"→ capacity of 2 idle cores ≈ {2000 / cpu:.0f}/s"
        )
    best = max(
        (s for s in steps if s["graded"] == s["count"] and s["p95"] <= 3), key=lambda s: s["throughput"], default=None
    )
    if best:
        print(
            f"best sustained with p95 ≤ 3 s: {best['throughput']:.1f}/s (goal ≥ 50/s), p95 {best['p95']:.2f} s; "
            f"ratio vs CLI: {best['throughput'] * cli:.0f}x, vs in-process kernel: {best['throughput'] * stock:.0f}x"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "work":
        work(int(sys.argv[2]))
    else:
        main()
