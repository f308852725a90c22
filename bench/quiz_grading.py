"""Quiz grading speed: sustained submissions/s and p95 submit→score through the API, versus nbgrader autograde.

One run, one data directory, one 20-question choice-only quiz released through nbgrader:

- baseline 1: ``nbgrader autograde`` from the CLI, one submission per call (what the issue measured: ~6.6 s);
- baseline 2: nbgrader's ``Autograde`` converter in-process, stock preprocessors (a kernel per submission);
- the same converter with ``EvaluateWithoutKernel`` (our preprocessor, no kernel);
- ``QuizGrader`` in one process (nbgrader's steps on the notebook in memory), one gradebook transaction per
  submission, then ``grade_many`` with a batch of 100 in one transaction;
- the worker's whole path in one process (load rows, grade, write results back): one submission at a time
  (``grade_stored``) against a batch (``grade_quiz``, what the workers run);
- the system: the API service (uvicorn, one process) storing submissions and queueing them, two huey *process*
  workers grading them, and a load generator posting as distinct members at a fixed rate. A rate counts as
  sustained when every submission is graded and the queue drains within a second of the last one. Latency is
  submit→score: from the moment the request is sent to the ``graded_at`` the worker stamps on the row.
  ``--previous-src DIR`` runs the same load, in the same run, on another source tree first (the code before a
  change: ``git archive <rev> src | tar -x -C DIR``) and prints the ratio.

CPU time per submission (psutil: API process + worker processes) does not depend on what else the machine runs;
wall-clock figures do. The hub's token check is the one edge replaced (``BenchTokenIdentity``: the bearer token is
the username); everything else is the real service. Run: `.venv/bin/python bench/quiz_grading.py` (``--rates
40,60``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
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
        **os.environ,
        "DIEMCAU_HOME": str(home / "var"),
        "DIEMCAU_CONTENT__COURSES_DIR": str(home / "courses"),
        "DIEMCAU_CONTENT__TRANSCRIPTS_DIR": str(home / "transcripts"),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }


def spec_text() -> str:
    lines = ["title: Trắc nghiệm tuần (20 câu)", "attempts: 1", "questions:"]
    for i in range(QUESTIONS):
        lines += [
            f"  - id: q{i + 1}",
            "    type: single",
            f"    text: Câu hỏi số {i + 1}?",
            "    options: [Phương án một, Phương án hai, Phương án ba, Phương án bốn]",
            f"    answer: {'ABCD'[i % 4]}",
        ]
    return "\n".join(lines) + "\n"


def answers_for(n: int) -> dict[str, str]:
    """A member's answers: about half right."""
    return {f"q{i + 1}": "ABCD"[(i * (n % 3 + 1)) % 4] for i in range(QUESTIONS)}


def prepare(home: Path, members: int):  # type: ignore[no-untyped-def]
    """Data directory, a course for one big cell of ``members`` members, the quiz released."""
    from diemcau.apps import setup_steps
    from diemcau.settings import load_settings

    settings = load_settings(environment(home))
    setup_steps.ensure_data_dir(settings)
    factory = setup_steps.ensure_database(settings)
    add_quiz_course(settings, factory, members)
    return settings, factory


def add_quiz_course(settings, factory, members: int) -> None:  # type: ignore[no-untyped-def]
    """The bench course for one big cell of ``members`` members (cards ``9NNNNNNN``), its quiz released."""
    from diemcau.adapters.db.engine import transaction
    from diemcau.adapters.db.models import CourseRow, MemberRow, OrgUnitRow
    from diemcau.quizzes.publish import release

    with transaction(factory) as session:
        cell = OrgUnitRow(code="cb-bench", name="Chi bộ đo tải", kind="cell", path="/cb-bench/")
        session.add(cell)
        session.flush()
        session.add(CourseRow(id=COURSE, title="Chuyên đề đo tải", resolutions=[], completion_rule={}, audience=[cell]))
        session.add_all(
            MemberRow(card_number=f"9{n:07d}", full_name=f"Đảng viên {n}", org_unit_id=cell.id) for n in range(members)
        )
    path = settings.courses_dir / COURSE / "quizzes" / f"{QUIZ}.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(spec_text(), encoding="utf-8")
    release(settings, factory, COURSE, QUIZ)


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
            cwd=course_root(settings, COURSE),
            env=environment(settings.home.parent),
            check=True,
            capture_output=True,
        )
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


def time_grader(settings, rounds: int, batch: int = 1) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Wall and CPU seconds per submission of QuizGrader in this one process, ``batch`` per gradebook transaction."""
    from diemcau.adapters.nbgrader.grader import QuizGrader, QuizSubmission

    grader = QuizGrader(settings, COURSE)
    grader.grade(QuizSubmission(QUIZ, f"warm{batch}", answers_for(1), dt.datetime.now(dt.UTC)))
    start, cpu = time.perf_counter(), time.process_time()
    for first in range(0, rounds, batch):
        grader.grade_many(
            [
                QuizSubmission(QUIZ, f"g{batch}-{n}", answers_for(n), dt.datetime.now(dt.UTC))
                for n in range(first, min(rounds, first + batch))
            ]
        )
    return (time.perf_counter() - start) / rounds, (time.process_time() - cpu) / rounds


def time_worker_path(settings, factory, first: int, rounds: int, batch: bool) -> float:  # type: ignore[no-untyped-def]
    """CPU seconds per submission of the worker's whole path in this process (no queue): stored rows loaded,
    graded, results written back; one at a time (``grade_stored``) or as the workers do (``grade_quiz``)."""
    from diemcau.adapters.db import quizzes as store
    from diemcau.jobs import quiz_tasks
    from diemcau.jobs.context import install
    from diemcau.quizzes.grading import grade_stored

    form = store.load_form(factory, COURSE, QUIZ)
    now = dt.datetime.now(dt.UTC)
    ids = [
        store.store_submission(factory, f"9{n:07d}", form, f"inproc-{n:08d}", answers_for(n), now)[0].id
        for n in range(first, first + rounds)
    ]
    graders = install(settings).graders
    quiz_tasks.ensure_queue(settings)
    cpu = time.process_time()
    if batch:
        quiz_tasks.grade_quiz.call_local(COURSE, QUIZ)
    else:
        for submission_id in ids:
            grade_stored(graders, factory, submission_id)
    spent = (time.process_time() - cpu) / rounds
    assert all(store.load_submission(factory, i).status == store.GRADED for i in ids)
    return spent


class BenchTokenIdentity:
    """Stands in for the hub's token check: ``Authorization: Bearer <username>``. Everything behind it is real."""

    async def username_for(self, request):  # type: ignore[no-untyped-def]
        header = request.headers.get("authorization", "")
        return header.split(" ", 1)[1] if header.startswith("Bearer ") else None

    def login_redirect(self, request):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    async def complete_login(self, request):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def logout(self, request, then):  # type: ignore[no-untyped-def]
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


def _spawn(role: str, home: Path, source: Path | None, *args: str) -> subprocess.Popen:
    env = environment(home)
    if source is not None:  # another source tree's diemcau before the installed one
        env["PYTHONPATH"] = os.pathsep.join([str(source), env.get("PYTHONPATH", "")])
    return subprocess.Popen([sys.executable, __file__, role, *args], env=env, cwd=REPO)


class RawHttpClient:
    """A minimal HTTP/1.1 keep-alive client for the load generator. httpx spent 5-19 ms CPU per request here, as
    much as the service it measures, on the same two cores; this spends well under one."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def _exchange(self, connection, request: bytes) -> tuple[int, bytes, bool]:  # type: ignore[no-untyped-def]
        reader, writer = connection
        writer.write(request)
        status = int((await reader.readline()).split(b" ", 2)[1])
        length, keep = 0, True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"connection" and value.strip().lower() == b"close":
                keep = False
        return status, await reader.readexactly(length), keep

    async def post_json(self, path: str, body: dict[str, object], headers: dict[str, str]) -> tuple[int, bytes]:
        """POST ``body`` as JSON; ``(status, response body)``."""
        data = json.dumps(body).encode()
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data
        for attempt in range(3):  # a keep-alive connection the server just closed: send again (same client id)
            connection = self.idle.pop() if self.idle else await asyncio.open_connection("127.0.0.1", self.port)
            try:
                status, payload, keep = await self._exchange(connection, request)
            except (ConnectionError, asyncio.IncompleteReadError, IndexError, ValueError):
                connection[1].close()
                if attempt == 2:
                    raise
                continue
            if keep:
                self.idle.append(connection)
            else:
                connection[1].close()
            return status, payload
        raise AssertionError("unreachable")

    def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()


async def _post(client: RawHttpClient, n: int, sent: dict[str, float]) -> None:
    path = f"/services/diemcau/api/quizzes/{COURSE}/{QUIZ}/submissions"
    sent_at = time.time()
    status, payload = await client.post_json(
        path, {"client_id": f"bench-{n:08d}", "answers": answers_for(n)}, {"Authorization": f"Bearer 9{n:07d}"}
    )
    if status not in (200, 201):
        raise RuntimeError(f"submission {n}: HTTP {status} {payload[:200]!r}")
    sent[json.loads(payload)["id"]] = sent_at


async def offer_load(port: int, rate: float, seconds: float, first: int) -> tuple[dict[str, float], float]:
    """Post ``rate`` submissions per second for ``seconds`` (open loop); returns send times by submission id."""
    sent: dict[str, float] = {}
    client = RawHttpClient(port)
    start, tasks = time.monotonic(), []
    for i in range(int(rate * seconds)):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_post(client, first + i, sent)))
    await asyncio.gather(*tasks)
    client.close()
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
    before, client = [cpu_seconds(pid) for pid in pids], time.process_time()
    sent, last_sent = asyncio.run(offer_load(port, rate, seconds, first))
    client = time.process_time() - client
    graded = graded_times(factory, set(sent), timeout=180)
    api_cpu, worker_cpu = (cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True))
    latencies = sorted(graded[i] - sent[i] for i in graded)
    drained = max(graded.values()) - last_sent if graded else float("inf")
    span = max(graded.values()) - min(sent.values()) if graded else float("inf")
    return {
        "rate": rate,
        "count": len(sent),
        "graded": len(graded),
        "throughput": len(graded) / span,
        "sent_rate": (len(sent) - 1) / (max(sent.values()) - min(sent.values())),
        "cores": (api_cpu + worker_cpu) / span,
        "client_ms": client / len(sent) * 1000,
        "p50": statistics.median(latencies),
        "p95": latencies[int(0.95 * (len(latencies) - 1))],
        "drain": drained,
        "api_ms": api_cpu / len(sent) * 1000,
        "worker_ms": worker_cpu / len(sent) * 1000,
    }


def wait_for_port(port: int) -> None:
    import httpx

    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/services/diemcau/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("API did not start")


def system(  # type: ignore[no-untyped-def]
    home: Path, factory, rates: list[float], seconds: float, processes: int, first: int, source: Path | None = None
) -> list[dict[str, float]]:
    from tests.hubserver import free_port

    port = free_port()
    server, worker = _spawn("serve", home, source, str(port)), _spawn("work", home, source, str(processes))
    try:
        wait_for_port(port)
        asyncio.run(offer_load(port, 5, 1, first=first - 10))  # warm-up: imports, caches, gradebook layout
        results = []
        for rate in rates:
            results.append(run_rate(factory, port, rate, seconds, first, (server.pid, worker.pid)))
            first += int(rate * seconds)
        return results
    finally:
        worker.send_signal(signal.SIGINT)  # huey's graceful stop: a grading task at work finishes first
        server.terminate()
        for process in (server, worker):
            process.wait(timeout=30)


def _print_steps(title: str, steps: list[dict[str, float]]) -> None:
    print(title)
    for s in steps:
        print(
            f"  offered {s['rate']:3.0f}/s: {s['count']:4.0f} sent ({s['sent_rate']:.1f}/s), "
            f"{s['graded']:4.0f} graded, sustained {s['throughput']:5.1f}/s, p50 {s['p50']:5.2f} s, "
            f"p95 {s['p95']:5.2f} s, drained {s['drain']:+5.2f} s after the last"
        )
        cpu = s["api_ms"] + s["worker_ms"]
        print(
            f"      CPU per submission: API {s['api_ms']:.1f} ms + grading {s['worker_ms']:.1f} ms = {cpu:.1f} ms "
            f"→ capacity of 2 idle cores ≈ {2000 / cpu:.0f}/s"
        )
        print(
            f"      the API and workers got {s['cores']:.2f} cores while it ran; the load generator (this process) "
            f"used {s['client_ms']:.1f} ms CPU per request"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="30,50,70", help="Offered submissions/s, comma-separated.")
    parser.add_argument("--seconds", type=float, default=20, help="Length of each load step.")
    parser.add_argument("--processes", type=int, default=2, help="Grading worker processes.")
    parser.add_argument("--cli-rounds", type=int, default=3)
    parser.add_argument("--previous-src", type=Path, help="Also run the system on this source tree (its src/).")
    options = parser.parse_args()
    rates = [float(r) for r in options.rates.split(",")]
    per_run = int(sum(rates) * options.seconds) + 100
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        settings, factory = prepare(home, 2000 + 2 * per_run)
        cli = time_cli(settings, options.cli_rounds)
        stock = time_converter(settings, 3, kernel=True)
        fast_converter = time_converter(settings, 5, kernel=False)
        one_wall, one_cpu = time_grader(settings, 200)
        many_wall, many_cpu = time_grader(settings, 200, batch=100)
        path_one = time_worker_path(settings, factory, 0, 200, batch=False)
        path_batch = time_worker_path(settings, factory, 200, 500, batch=True)
        previous = (
            system(home, factory, rates, options.seconds, options.processes, 1000, options.previous_src)
            if options.previous_src
            else None
        )
        steps = system(home, factory, rates, options.seconds, options.processes, 1000 + per_run)
    print(f"{QUESTIONS}-question choice-only quiz, {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}")
    per = "ms per submission"
    print(f"baseline `nbgrader autograde` CLI (kernel):    {cli * 1000:9.0f} {per} (median of {options.cli_rounds})")
    print(f"baseline Autograde in-process (kernel):        {stock * 1000:9.0f} {per} (median of 3)")
    print(f"Autograde in-process + EvaluateWithoutKernel:  {fast_converter * 1000:9.0f} {per} (median of 5)")
    print(f"QuizGrader, one per gradebook transaction:     {one_wall * 1000:9.1f} ms wall, {one_cpu * 1000:.1f} ms CPU")
    print(
        f"QuizGrader.grade_many, 100 per transaction:    {many_wall * 1000:9.1f} ms wall, "
        f"{many_cpu * 1000:.1f} ms CPU ({one_cpu / many_cpu:.1f}x less CPU)"
    )
    print(f"worker path in-process, one at a time:         {path_one * 1000:9.1f} {per} (CPU)")
    print(
        f"worker path in-process, batches (grade_quiz):  {path_batch * 1000:9.1f} {per} (CPU) "
        f"({path_one / path_batch:.1f}x less)"
    )
    print(
        f"system: API (1 process) + huey workers ({options.processes} processes), open-loop load, "
        "submit→score from the request to graded_at:"
    )
    if previous:
        _print_steps(f"  previous source tree ({options.previous_src}):", previous)
    _print_steps("  this source tree:", steps)
    if previous:
        for old, new in zip(previous, steps, strict=True):
            old_cpu, new_cpu = old["api_ms"] + old["worker_ms"], new["api_ms"] + new["worker_ms"]
            print(
                f"  at {new['rate']:.0f}/s: CPU per submission {old_cpu:.1f} → {new_cpu:.1f} ms "
                f"({old_cpu / new_cpu:.2f}x), p95 {old['p95']:.2f} → {new['p95']:.2f} s"
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
