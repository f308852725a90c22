"""Progress-event ingest through the API: sustained events/s, p99 latency, and no event lost across a crash.

    .venv/bin/python bench/progress_ingest.py [--members 1000] [--rate 1000] [--seconds 30] [--clients 1]
                                              [--batch 1] [--no-kill] [--no-baseline] [--fast-path-off]
                                              [--workers 1]
                                              [--db postgresql+psycopg://.../a_scratch_database]

1,000 simulated members each send a heartbeat (one event: the 15 s of lecture they just played) every 15 s
of *their* time; time is compressed so that together they offer ``--rate`` events/s (1,000/s: each member
every second). The API runs as its own process (``bench/api_server.py``: uvicorn, ``--workers`` worker
processes, default one) on SQLite (WAL) by default. At 40 % of the run it is killed with SIGKILL and started
again on the same port; clients retry the same event (same client event id) until it is acknowledged. At the
end the stored events are counted: every event sent must be there exactly once. ``--batch N`` sends N
heartbeats per request (what an offline queue replays, or a player that reports every minute) to show what the
per-request cost is. Time runs 15× faster for the members than for the server, so each member opened the lecture
a day before the run (``open_lecture_earlier``): otherwise the real-time bound on coverage (``core.progress.Pace``)
would refuse most of it and the run would measure refusals, not honest traffic. Latency is per HTTP request
(the attempt that got the answer); 'steady' excludes events that met the outage. Clients back off (0.2 s doubling to 5 s) and wait up to 600 s for an answer, because a
request abandoned on timeout is still served and its retry doubles the work.

The load generator is ``raw_http.RawHttpPool`` (cheap keep-alive HTTP/1.1; httpx cost as much CPU as the API on
the same cores), and the caches' lifetimes are compressed with time (``scaled_cache_env``), so one request in four
misses the caller cache as at the real 15 s heartbeat. The last lines print latency over the second half too.

Figures: sustained events/s and p99 depend on what else the machine runs; **API CPU per event** (from /proc,
start-up excluded) does not. Baseline, in the same run (``--no-baseline`` skips it): the same load against the
same code with the hot-path settings off (``DIEMCAU_PERF__CALLER_SECONDS=0``, ``..._LECTURE_SECONDS=0``,
``..._GROUP_COMMIT=false``, ``..._FAST_PROGRESS=false``: caller and lecture read from the database on every
request, one transaction per request, through FastAPI's routing), printed with the ratio; ``--fast-path-off``
adds a run with only ``perf.fast_progress`` off (what the fast path alone saves); and the goal of 1,000 events/s
at p99 ≤ 100 ms. ``--db`` drops and recreates the public schema of the database it names: give it a scratch
database.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from raw_http import RawHttpPool  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402
from synthetic_province import LECTURES, seed_synthetic  # noqa: E402

from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker, transaction  # noqa: E402
from diemcau.adapters.db.models_progress import LectureProgressRow, ProgressEventRow  # noqa: E402
from diemcau.adapters.db.progress import load_refusals  # noqa: E402

PREFIX = "/services/diemcau"
HEARTBEAT = 15.0
errors: dict[str, int] = {}  # per client process: why attempts failed (printed at the end)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_api(
    db_url: str, port: int, tokens: Path, home: Path, env: dict[str, str] | None = None, workers: int = 1
) -> subprocess.Popen:
    """The API as its own process (``env``: extra ``DIEMCAU_*`` settings); returns once it answers /health."""
    script = Path(__file__).with_name("api_server.py")
    extra = {**(env or {}), **({"DIEMCAU_BENCH_WORKERS": str(workers)} if workers > 1 else {})}
    process = subprocess.Popen(
        [sys.executable, str(script), db_url, str(port), str(tokens), str(home)], env={**os.environ, **extra}
    )
    deadline = time.monotonic() + 240  # imports alone take ~30 s on a busy 2-core machine
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{PREFIX}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the API did not start")


async def member_loop(
    pool: RawHttpPool,
    path: str,
    card: str,
    offset: float,
    interval: float,
    count: int,
    t0: float,
    out: list,
    batch: int = 1,
) -> None:
    """Send ``count`` heartbeats on schedule, ``batch`` per request; retry each request until acknowledged."""
    headers = {"Authorization": f"Bearer token-{card}"}
    for first_seq in range(0, count, batch):
        await asyncio.sleep(max(0.0, t0 + offset + (first_seq + batch - 1) * interval - time.monotonic()))
        body = {
            "events": [
                {
                    "event_id": f"{card}-{seq}",
                    "kind": "heartbeat",
                    "start": seq * HEARTBEAT,
                    "end": (seq + 1) * HEARTBEAT,
                    "seq": seq,
                }
                for seq in range(first_seq, min(count, first_seq + batch))
            ]
        }
        first, failed, backoff = time.monotonic(), False, 0.2
        while True:
            sent = time.monotonic()
            try:
                status, _answer = await pool.post_json(path, body, headers)
                if status == 200:
                    out += [(first - t0, time.monotonic() - sent, time.monotonic() - first, failed)] * len(
                        body["events"]
                    )
                    break
                errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1
            except ConnectionError as error:
                reason = str(error).split(":", 1)[0]
                errors[reason] = errors.get(reason, 0) + 1
            failed = True
            await asyncio.sleep(backoff)  # back off: a restarting server must not be buried in retries
            backoff = min(backoff * 2, 5.0)


def run_clients(args: tuple) -> list:
    """One client process: its share of the members, on one event loop, over a few keep-alive connections
    (``raw_http``: httpx spent as much CPU per request as the API, on the same two cores)."""
    port, cards, interval, count, t0_wall, batch = args

    async def main() -> list:
        out: list = []
        # A long timeout: a request given up on is work the server still does, and its retry doubles it.
        pool = RawHttpPool("127.0.0.1", port, size=64, timeout=600)
        path = f"{PREFIX}/api/lectures/{LECTURES[0]}/progress"
        t0 = time.monotonic() + (t0_wall - time.time())
        await asyncio.gather(
            *(
                member_loop(pool, path, card, (i / len(cards)) * interval, interval, count, t0, out, batch)
                for i, card in enumerate(cards)
            )
        )
        pool.close()
        if errors:
            print(f"  client retries: {errors}")
        return out

    return asyncio.run(main()), time.process_time()


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in found.read_text().split()] if found.exists() else []


def cpu_seconds(process: subprocess.Popen) -> float:
    """User + system CPU the API (and its worker processes, if any) has used so far (Linux /proc), independent
    of other load on the machine. Worker processes are counted while alive: read before stopping them."""
    return _cpu_of(process.pid) + sum(_cpu_of(c) for c in _children(process.pid))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def report(label: str, results: list, wall: float, kill_at: float | None) -> dict:
    latencies = [r[1] for r in results]
    steady = [r[1] for r in results if not r[3]]
    half = max(r[0] for r in results) / 2
    second_half = [r[1] for r in results if r[0] >= half]
    acked = [r[2] for r in results]
    print(f"{label}: {len(results)} events acknowledged in {wall:.1f} s = {len(results) / wall:,.0f} events/s")
    print(
        f"  request latency  p50 {statistics.median(latencies) * 1000:6.1f} ms   p99 {percentile(latencies, 99) * 1000:6.1f} ms"
        f"   steady p99 {percentile(steady, 99) * 1000:6.1f} ms   max {max(latencies) * 1000:6.0f} ms"
    )
    print(
        f"  second half of the run (caches as warm as they get): p50 {statistics.median(second_half) * 1000:6.1f} ms"
        f"   p99 {percentile(second_half, 99) * 1000:6.1f} ms"
    )
    by_second: dict[int, float] = {}
    for sent_at, latency, *_ in results:
        by_second[int(sent_at)] = max(by_second.get(int(sent_at), 0.0), latency)
    worst = sorted(by_second.items(), key=lambda item: -item[1])[:3]
    print(
        "  slowest seconds of the run (pauses: garbage collection, cache expiry, a crash): "
        + ", ".join(f"{second} s: {latency * 1000:.0f} ms" for second, latency in worst)
    )
    if kill_at is not None:
        before = [r for r in results if r[0] + r[2] < kill_at]  # acknowledged before the kill
        print(
            f"  acknowledged before the crash: {len(before) / kill_at:,.0f} events/s; events that met the outage or"
            f" an error: {sum(r[3] for r in results)},"
            f" worst time to acknowledgement {max(acked):.1f} s"
        )
    return {"rate": len(results) / wall, "p99": percentile(latencies, 99)}


def scaled_cache_env(interval: float) -> dict[str, str]:
    """The caller and lecture caches' lifetimes compressed as time is: a member's entry lives for 4 of their
    heartbeats, as 60 s does at the real 15 s, so a quarter of the requests miss as in production (without this a
    compressed run would hit ~60 times in a row and look cheaper than it is)."""
    seconds = f"{60.0 * interval / HEARTBEAT:.3f}"
    return {"DIEMCAU_PERF__CALLER_SECONDS": seconds, "DIEMCAU_PERF__LECTURE_SECONDS": seconds}


# The baseline: the same code with the hot-path settings off (no caller/lecture cache, a transaction per request,
# every post through FastAPI's routing).
FAST_PATH_OFF_ENV = {"DIEMCAU_PERF__FAST_PROGRESS": "false"}
BASELINE_ENV = {
    "DIEMCAU_PERF__CALLER_SECONDS": "0",
    "DIEMCAU_PERF__LECTURE_SECONDS": "0",
    "DIEMCAU_PERF__GROUP_COMMIT": "false",
    **FAST_PATH_OFF_ENV,
}


def open_lecture_earlier(factory, cards: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Each member first opened the lecture (its player page) a day ago: what the page would have stored."""
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=1)
    rows = [
        dict(
            member=card,
            lecture_id=LECTURES[0],
            intervals=[],
            watched_seconds=0.0,
            coverage_percent=0.0,
            resume_position=0.0,
            last_seq=-1,
            first_contact_at=at,
        )
        for card in cards
    ]
    with transaction(factory) as session:
        session.execute(insert(LectureProgressRow), rows)


def run_once(args: argparse.Namespace, label: str, env: dict[str, str]) -> dict:
    """One run against a fresh database; prints its figures and returns CPU per event, rate, p99 and losses."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        db_url = args.db or f"sqlite:///{home / 'bench.db'}"
        engine = make_engine(db_url)
        if args.db:  # a shared server database: start from an empty schema
            with engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA public")
                connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
        ensure_schema(engine)
        seed_synthetic(make_sessionmaker(engine), args.members, 1, dt.date(2026, 12, 31), progress=False)
        cards = [f"s{n:07d}" for n in range(1, args.members + 1)]
        open_lecture_earlier(make_sessionmaker(engine), cards)
        interval = args.members / args.rate  # each member's compressed 15 s
        env = {**scaled_cache_env(interval), **env}
        tokens = home / "tokens.json"
        tokens.write_text(json.dumps({f"token-{c}": c for c in cards}), encoding="utf-8")
        port = free_port()
        if args.workers > 1:  # a first start creates the search index's objects: two workers doing it at once collide
            warm = start_api(db_url, port, tokens, home, env)
            warm.send_signal(signal.SIGINT)
            warm.wait(timeout=60)
        api = start_api(db_url, port, tokens, home, env, args.workers)
        time.sleep(1.0)  # let worker processes settle before reading their CPU
        cpu_start, cpu_used = cpu_seconds(api), 0.0
        count = max(1, int(args.seconds / interval))
        t0_wall = time.time() + 1.0
        slices = [(port, cards[i :: args.clients], interval, count, t0_wall, args.batch) for i in range(args.clients)]
        kill_at = None if args.no_kill else 1.0 + 0.4 * args.seconds
        with multiprocessing.Pool(args.clients) as pool:
            pending = pool.map_async(run_clients, slices)
            if kill_at is not None:
                time.sleep(max(0.0, t0_wall + kill_at - 1.0 - time.time()))
                cpu_used += cpu_seconds(api) - cpu_start
                for pid in _children(api.pid):
                    os.kill(pid, signal.SIGKILL)
                api.send_signal(signal.SIGKILL)
                api.wait()
                down = time.monotonic()
                api = start_api(db_url, port, tokens, home, env, args.workers)
                cpu_start = cpu_seconds(api)
                print(f"API killed at {kill_at - 1.0:.1f} s and answering again after {time.monotonic() - down:.1f} s")
            parts = pending.get()
            results = [r for part, _cpu in parts for r in part]
            client_cpu = sum(cpu for _part, cpu in parts)
        wall = max(r[0] + r[2] for r in results)
        cpu_used += cpu_seconds(api) - cpu_start
        api.send_signal(signal.SIGINT)
        api.wait(timeout=30)
        with make_sessionmaker(engine)() as session:
            stored = session.scalar(select(func.count()).select_from(ProgressEventRow))
        refused, _posts = load_refusals(make_sessionmaker(engine), LECTURES[0])
        engine.dispose()
    sent = args.members * count
    print(
        f"[{label}] offered {args.rate:,.0f} events/s: {args.members} members x {count} heartbeats (every"
        f" {interval:.2f} s) over {args.seconds:.0f} s, {args.batch} per request, {args.clients} client processes,"
        f" {args.workers} API worker(s), {os.cpu_count()} CPUs"
    )
    crash = None if kill_at is None else kill_at - 1.0
    figures = report("run" if kill_at is None else "run with a crash", results, wall, crash)
    print(
        f"  API process CPU: {cpu_used * 1000 / len(results):.2f} ms per event ->"
        f" {len(results) / cpu_used:,.0f} events/s per fully available core (excludes start-up imports)"
    )
    print(f"  load generator CPU: {client_cpu * 1000 / len(results):.2f} ms per event ({args.clients} process(es))")
    print(
        f"  events sent {sent:,}, acknowledged {len(results):,}, stored {stored:,}, lost {sent - stored:,};"
        f" coverage refused as faster than real time: {refused:,.0f} s (honest traffic: 0)"
    )
    return {**figures, "cpu_ms": cpu_used * 1000 / len(results), "lost": sent - stored}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s offered by all members together")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=1, help="client processes")
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run with the hot-path settings off")
    parser.add_argument("--fast-path-off", action="store_true", help="also run with only perf.fast_progress off")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (PostgreSQL: the scale-out)")
    parser.add_argument("--db", default="", help="a server database to use (its public schema is dropped first)")
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="heartbeats per request (an offline queue, or a player that sends every minute)",
    )
    args = parser.parse_args()
    new = run_once(args, "hot path on (default settings)", {})
    if args.fast_path_off:
        slow = run_once(args, "default settings but perf.fast_progress off", FAST_PATH_OFF_ENV)
        print(
            f"API CPU per event {new['cpu_ms']:.2f} ms vs {slow['cpu_ms']:.2f} ms with the fast path off:"
            f" {slow['cpu_ms'] / new['cpu_ms']:.2f}x less; p99 {new['p99'] * 1000:,.0f} vs {slow['p99'] * 1000:,.0f} ms"
        )
    if not args.no_baseline:
        old = run_once(args, "baseline: caches and group commit off", BASELINE_ENV)
        print(
            f"API CPU per event {new['cpu_ms']:.2f} ms vs baseline {old['cpu_ms']:.2f} ms:"
            f" {old['cpu_ms'] / new['cpu_ms']:.1f}x less;"
            f" sustained {new['rate']:,.0f} vs {old['rate']:,.0f} events/s ({new['rate'] / old['rate']:.1f}x);"
            f" p99 {new['p99'] * 1000:,.0f} vs {old['p99'] * 1000:,.0f} ms"
        )
    print("goal: >= 1,000 events/s with p99 <= 100 ms, and 0 lost; load average %.1f %.1f %.1f" % os.getloadavg())


if __name__ == "__main__":
    main()
