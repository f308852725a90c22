"""The CPU one event costs when the platform runs as many processes on PostgreSQL and Redis, against one process
on SQLite, and the coordination overhead of being many (issue 16, item 5; docs/benchmarks.md, "Scale-out").

    .venv/bin/python bench/scale_out.py [--seconds 10] [--heartbeats 300] [--pages 30] [--submissions 15]
                                        [--members 1000] [--idle 5] [--repeat 1] [--quick]

Five set-ups, one after the other, each on a fresh database and data directory, in one run:

* **SQLite, 1 process**: one API process (``bench/api_server.py``: uvicorn, the real app) on SQLite, clients
  straight to it, and one ``diemcau worker`` on the SQLite queue (the one-machine deployment: the baseline);
* **PG, 1 replica, 1 worker host**; **PG, 2 replicas, 2 worker hosts**; **PG, 4 replicas, 2 worker hosts**:
  N API processes (each its own uvicorn on its own port, as deployed) behind nginx running the shipped
  ``deploy/nginx/diemcau.conf`` (rendered by ``NginxFront``, as in tests/test_nginx_front.py), and one
  ``diemcau worker`` per worker host (``jobs.host_name`` worker1, worker2) on Redis (``jobs.backend = "redis"``),
  all on a scratch PostgreSQL cluster and a scratch redis-server that the bench starts on loopback (initdb in a
  temporary folder; fsync on, Redis append-only with fsync each second, as ``make cluster`` runs them);
* **PG, 4 separate 1-replica stacks** (the control): four independent deployments of 1 replica and 1 worker host
  side by side on the same servers, each with its own database, Redis database and nginx, each serving a quarter of
  the members and taking a quarter of every load. The same number of API processes at the same rate each as the
  4-replica set-up, and the same machine as busy; what they do not share is the database, the queue and the upstream.

Each set-up is warmed up, then takes three open-loop loads at fixed rates, one after the other:

* **heartbeats**: ``--members`` members each sending a progress event on schedule, together ``--heartbeats``
  events/s (``progress_ingest.member_loop``; time compressed, caches' lifetimes compressed with it);
* **portal pages**: ``--pages`` requests/s for ``GET /services/diemcau/`` as a phone asks for it (HTML, gzip, a
  mobile user agent), each from the next member: the member's home page, their courses and lectures;
* **quiz submissions**: ``--submissions`` posts/s of a 20-question quiz (``quiz_grading``), each from a distinct
  member; the phase ends when every submission is graded (``graded_at`` set by a worker).

Every set-up gets the same load (4 replicas then each see a quarter of what one replica sees). With
``--per-replica-load`` the rates (and members) given are what the 4-replica set-up gets and a set-up with fewer API
processes gets their share (1/4, 1/2), so every API process sees the same load; but then the total load, and with
it PostgreSQL's and the grader's batches and the machine's queueing, differ between set-ups, and on 2 cores that
dominates (docs/benchmarks.md).

CPU is read from /proc before and after each phase, for every process the event passes through: the API processes,
nginx (master and worker), the workers, the PostgreSQL server (the postmaster and all its children: backends,
WAL writer, checkpointer...; a backend that exited is in the postmaster's reaped-children time; so is
the bench's own count of graded rows, twice a second while submissions are graded) and redis-server.
A figure is user + system CPU per acknowledged event, less what the same processes spend idle: after the warm-up
each set-up is left without load for ``--idle`` seconds, and that idle rate (printed, by group: the workers' poll
of the queue, Redis's timers; next to nothing) times the phase's length is taken off. The load generator (this
process) is not counted. ``--repeat N`` runs every set-up N times, forwards then backwards (so a drift in the
machine's other load falls on both ends), and keeps, by kind, the run with the least total CPU per event: the one
the machine's other work disturbed least. The shipped file sends each member to one replica (a consistent hash
of the caller's credentials; the bench's members send a token in the ``Authorization`` header);
``--round-robin`` (an experiment, not the shipped file) takes that line out, so each request goes to the next
replica, as before session 25. The token check is the one edge replaced: ``tests.fakes.StaticTokenIdentity`` (a bearer token per member); the rest
is the real service.

**Coordination overhead**, the last line: with ``c_k(S)`` the total CPU per event of kind ``k`` (heartbeat,
submission with its grading, portal page) in set-up ``S``, and ``r_k`` the national evening peak's rate of that
kind (37,000 heartbeats/s, 140 submissions/s, 3,083 page requests/s: ``diemcau.core.sizing.NATIONAL_PEAK``),

    overhead = sum_k r_k * c_k(PG, 4 replicas, 2 worker hosts) / sum_k r_k * c_k(PG, 4 separate 1-replica stacks) - 1

the extra CPU the peak's mix costs because 4 API replicas and 2 worker hosts work as one deployment (one database,
one queue, one upstream) instead of as 4 that share nothing, with every API process at the same rate on the same
busy machine (goal <= 10 %). The separate stacks run 4 workers to the shared set-up's 2, whose grading batches are
twice as large: that favours the shared set-up on submissions, about 2 % of the mix (docs/benchmarks.md).

The lines above it compare each PG set-up with 1 replica and 1 worker host under the same total load: what
spreading one load over more processes costs. That is mostly not coordination: a process at a quarter of the rate
does alone what a busier one shares between requests (a commit, a wake-up of its threads, caches kept warm), and the
separate stacks, sharing nothing, pay it too (docs/benchmarks.md, "Scale-out"). What PostgreSQL, Redis and nginx
cost against one SQLite process is printed on its own, as the ratio to the SQLite figures.

Wall-clock latency depends on what else the machine runs, and on a shared virtual machine CPU per event does too
(less when it is busy: its cores stay warm), so the run prints the load average it saw. ``--quick``: 3 s phases at
low rates, a smoke run whose figures mean nothing (about six minutes on a busy 2-core machine, most of it starting
processes); a default run takes about nine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from progress_ingest import (  # noqa: E402
    PREFIX,
    free_port,
    member_loop,
    open_lecture_earlier,
    percentile,
    scaled_cache_env,
    start_api,
)
from quiz_grading import COURSE, QUIZ, add_quiz_course, answers_for, environment  # noqa: E402
from raw_http import RawHttpPool  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from synthetic_province import LECTURES, seed_synthetic  # noqa: E402
from tests.nginx_front import running_nginx  # noqa: E402

from diemcau.adapters.db.models_quiz import QuizSubmissionRow  # noqa: E402
from diemcau.adapters.nginx_config import NginxFront  # noqa: E402
from diemcau.apps import setup_steps  # noqa: E402
from diemcau.core.sizing import KINDS, NATIONAL_PEAK, coordination_overhead  # noqa: E402
from diemcau.devcluster.services import postgres_bin  # noqa: E402
from diemcau.settings import load_settings  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
GROUPS = ("API", "nginx", "workers", "PostgreSQL", "Redis")
PHONE = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Encoding": "gzip, deflate, br",
    "Accept-Language": "vi-VN,vi;q=0.9",
    "User-Agent": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile",
}
WARM_SUBMISSIONS = 10
# --round-robin: the shipped file's balancing line, taken out (nginx's default, round robin, then applies).
HASH_LINE = "    hash $diemcau_balance_key consistent;\n"


@dataclass(frozen=True)
class Setup:
    """One deployment shape."""

    label: str
    postgres: bool  # PostgreSQL + Redis + nginx; else SQLite, its queue, clients straight to one API process
    replicas: int
    worker_hosts: int
    # Independent deployments side by side, each of ``replicas`` and ``worker_hosts`` with its own database, Redis
    # database and nginx, each taking its share of the members and of the load (the control: nothing shared).
    stacks: int = 1


SETUPS = (
    Setup("SQLite, 1 process", False, 1, 1),
    Setup("PG, 1 replica, 1 worker host", True, 1, 1),
    Setup("PG, 2 replicas, 2 worker hosts", True, 2, 2),
    Setup("PG, 4 replicas, 2 worker hosts", True, 4, 2),
    Setup("PG, 4 separate 1-replica stacks", True, 1, 1, stacks=4),
)
BASELINE, ONE, MANY, APART = SETUPS[0], SETUPS[1], SETUPS[3], SETUPS[4]


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid``, of the children it has reaped, and of its live descendants."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [
            int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()
        ]
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    own = sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS  # utime stime cutime cstime
    return own + sum(tree_cpu(child) for child in children)


@dataclass
class Servers:
    """The scratch PostgreSQL cluster and redis-server of one run (loopback, random ports, temporary folders)."""

    postgres: subprocess.Popen
    postgres_port: int
    redis: subprocess.Popen
    redis_port: int

    def database_url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.postgres_port}/{name}"

    @property
    def redis_url(self) -> str:
        return self.redis_database(0)

    def redis_database(self, number: int) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/{number}"

    def fresh_database(self, name: str) -> str:
        """A new, empty database ``name`` with ``unaccent``; its URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.postgres_port} user=postgres dbname=postgres") as admin:
            admin.autocommit = True
            admin.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        with psycopg.connect(f"host=127.0.0.1 port={self.postgres_port} user=postgres dbname={name}") as db:
            db.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
            db.commit()
        return self.database_url(name)

    def flush_redis(self) -> None:
        import redis

        redis.Redis.from_url(self.redis_url).flushall()


def _wait(ready, what: str, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start in {timeout:.0f} s")
        time.sleep(0.1)


@contextlib.contextmanager
def scratch_servers(root: Path) -> Iterator[Servers]:
    """initdb + postgres and redis-server, for this run only; stopped and removed at the end."""
    binaries = postgres_bin()
    data = Path(tempfile.mkdtemp(prefix="diemcau-scale-pg-"))  # outside private temporary folders: postgres reads it
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(data, "postgres", "postgres")
        as_postgres = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
    data.chmod(0o700)
    subprocess.run(
        [*as_postgres, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8"]
        + ["--locale=C.UTF-8", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    pg_port, redis_port = free_port(), free_port()
    options = ["listen_addresses=127.0.0.1", f"port={pg_port}", f"unix_socket_directories={data}"]
    postgres = subprocess.Popen(
        [*as_postgres, str(binaries / "postgres"), "-D", str(data), *[a for o in options for a in ("-c", o)]],
        stdout=(root / "postgres.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    redis_dir = root / "redis"
    redis_dir.mkdir()
    redis = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port", str(redis_port)]
        + ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(redis_dir)],
        stdout=(root / "redis.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        probe = [str(binaries / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(pg_port)]
        _wait(lambda: subprocess.run(probe, check=False).returncode == 0, "PostgreSQL")
        servers = Servers(postgres, pg_port, redis, redis_port)
        _wait(lambda: _answers(servers), "Redis")
        yield servers
    finally:
        for process in (redis, postgres):
            process.send_signal(signal.SIGINT)  # PostgreSQL: fast shutdown
            process.wait(30)
        shutil.rmtree(data, ignore_errors=True)


def _answers(servers: Servers) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(servers.redis_url).ping())
    except redis.ConnectionError:
        return False


@dataclass
class Running:
    """The processes of one deployment, by group, the port clients talk to, and the members it serves."""

    port: int
    groups: dict[str, list[int]]
    factory: object
    cards: list[str]

    def cpu(self) -> dict[str, float]:
        return {group: sum(tree_cpu(pid) for pid in self.groups.get(group, [])) for group in GROUPS}


def cpu_of(stacks: list[Running]) -> dict[str, float]:
    """CPU seconds by group over every stack of a set-up (PostgreSQL and Redis are shared: counted once)."""
    shared = {"PostgreSQL", "Redis"}
    mine = [stack.cpu() for stack in stacks]
    return {g: mine[0][g] if g in shared else sum(m[g] for m in mine) for g in GROUPS}


def across(stacks: list[Running], load) -> list:  # type: ignore[no-untyped-def]
    """``load(stack, share)`` for every stack at once, each with its share (1 / stacks) of the rates; the
    latencies of them all."""

    async def together() -> list:
        results = await asyncio.gather(*(load(stack, 1 / len(stacks)) for stack in stacks))
        return [latency for result in results for latency in result]

    return asyncio.run(together())


async def heartbeat_load(port: int, cards: list[str], rate: float, seconds: float, lecture: str) -> list:
    """``progress_ingest``'s members, open loop: each member every ``len(cards) / rate`` s; acknowledged events."""
    pool = RawHttpPool("127.0.0.1", port, size=64)
    interval = len(cards) / rate
    count = max(1, int(seconds / interval))
    out: list = []
    t0 = time.monotonic() + 0.2
    path = f"{PREFIX}/api/lectures/{lecture}/progress"
    await asyncio.gather(
        *(member_loop(pool, path, c, i / len(cards) * interval, interval, count, t0, out) for i, c in enumerate(cards))
    )
    pool.close()
    return [latency for _sent, latency, *_ in out]


async def open_loop(count: int, rate: float, send) -> list[float]:  # type: ignore[no-untyped-def]
    """``count`` calls of ``send(i)`` started at ``rate`` per second whatever the answers; their latencies. A
    call whose connection breaks is made again (pages are reads; a submission's client id makes it idempotent)."""
    latencies: list[float] = []

    async def one(i: int) -> None:
        started = time.monotonic()
        for attempt in range(5):  # a keep-alive connection the server closed while idle: send again (idempotent)
            try:
                await send(i)
                break
            except ConnectionError:
                if attempt == 4:
                    raise
                await asyncio.sleep(0.1)
        latencies.append(time.monotonic() - started)

    start, tasks = time.monotonic(), []
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return latencies


async def page_load(port: int, cards: list[str], rate: float, seconds: float) -> list[float]:
    """The member's home page, ``rate`` per second, each from the next member."""
    pool = RawHttpPool("127.0.0.1", port, size=64)

    async def send(i: int) -> None:
        headers = {**PHONE, "Authorization": f"Bearer token-{cards[i % len(cards)]}"}
        status, body = await pool.get(f"{PREFIX}/", headers)
        if status != 200:
            raise RuntimeError(f"portal page: HTTP {status} {body[:200]!r}")

    latencies = await open_loop(max(1, int(rate * seconds)), rate, send)
    pool.close()
    return latencies


async def submission_load(port: int, first: int, count: int, rate: float) -> list[float]:
    """``count`` quiz submissions from members ``first``…, ``rate`` per second."""
    pool = RawHttpPool("127.0.0.1", port, size=64)
    path = f"{PREFIX}/api/quizzes/{COURSE}/{QUIZ}/submissions"

    async def send(i: int) -> None:
        n = first + i
        body = {"client_id": f"bench-{n:08d}", "answers": answers_for(n)}
        status, answer = await pool.post_json(path, body, {"Authorization": f"Bearer token-9{n:07d}"})
        if status not in (200, 201):
            raise RuntimeError(f"submission {n}: HTTP {status} {answer[:200]!r}")

    latencies = await open_loop(count, rate, send)
    pool.close()
    return latencies


def wait_graded(factory, expected: int, timeout: float = 300.0) -> float:  # type: ignore[no-untyped-def]
    """Seconds until ``expected`` submissions in all are graded (polled twice a second)."""
    started = time.monotonic()
    while True:
        with factory() as session:  # type: ignore[operator]
            graded = session.scalar(
                select(func.count()).select_from(QuizSubmissionRow).where(QuizSubmissionRow.graded_at.is_not(None))
            )
        if graded >= expected:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"only {graded} of {expected} submissions graded after {timeout:.0f} s")
        time.sleep(0.5)


@contextlib.contextmanager
def running(
    setup: Setup, root: Path, servers: Servers | None, args: argparse.Namespace, run: int
) -> Iterator[list[Running]]:
    """Every stack of the set-up (run number ``run``), started; stopped at the end. A stack serves its share of the
    members and of the quiz's members."""
    if servers is not None:
        servers.flush_redis()
    with contextlib.ExitStack() as started:
        yield [
            started.enter_context(
                running_stack(setup, root, servers, args, f"{run}s{k}" if setup.stacks > 1 else run, k)
            )
            for k in range(setup.stacks)
        ]


@contextlib.contextmanager
def running_stack(
    setup: Setup, root: Path, servers: Servers | None, args: argparse.Namespace, run: int | str, number: int = 0
) -> Iterator[Running]:
    """Seed a fresh database and data directory (run ``run``, stack ``number``), start one deployment's processes;
    stop them all at the end."""
    home = root / f"run{run}"
    home.mkdir()
    env = {**environment(home), **scaled_cache_env(args.members / args.heartbeats)}
    if servers is not None:
        env["DIEMCAU_DATABASE__URL"] = servers.fresh_database(f"scale_run{run}")
        env |= {"DIEMCAU_JOBS__BACKEND": "redis", "DIEMCAU_JOBS__REDIS_URL": servers.redis_database(number)}
    settings = load_settings(env)
    setup_steps.ensure_data_dir(settings)
    factory = setup_steps.ensure_database(settings)
    members = args.members // setup.stacks
    seed_synthetic(factory, members, 1, dt.date(2026, 12, 31), progress=False)
    cards = [f"s{n:07d}" for n in range(1, members + 1)]
    open_lecture_earlier(factory, cards)
    quiz_members = WARM_SUBMISSIONS + int(args.submissions * args.seconds) + 1
    add_quiz_course(settings, factory, quiz_members)
    tokens = home / "tokens.json"
    everyone = cards + [f"9{n:07d}" for n in range(quiz_members)]
    tokens.write_text(json.dumps({f"token-{c}": c for c in everyone}), encoding="utf-8")
    ports = [free_port() for _ in range(setup.replicas)]
    apis = [start_api(settings.database_url, ports[0], tokens, settings.home, env)]  # the first alone: it migrates
    with ThreadPoolExecutor(max(1, setup.replicas - 1)) as pool:
        apis += pool.map(lambda port: start_api(settings.database_url, port, tokens, settings.home, env), ports[1:])
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "diemcau.apps.cli", "worker"],
            env={**env, "DIEMCAU_JOBS__HOST_NAME": f"worker{n}", "PYTHONUNBUFFERED": "1"},
            stdout=(home / f"worker{n}.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        for n in range(1, setup.worker_hosts + 1)
    ]
    groups = {"API": [a.pid for a in apis], "workers": [w.pid for w in workers]}
    if servers is not None:
        groups |= {"PostgreSQL": [servers.postgres.pid], "Redis": [servers.redis.pid]}
    try:
        if servers is None:
            yield Running(ports[0], groups, factory, cards)
        else:
            port = free_port()
            addresses = tuple(f"127.0.0.1:{p}" for p in ports)
            front = NginxFront((f"127.0.0.1:{port}",), addresses, str(settings.media_dir), "127.0.0.1:9")
            with running_nginx(front, home / "nginx") as site:
                groups["nginx"] = [int((home / "nginx" / "nginx.pid").read_text())]
                if args.round_robin:  # the experiment: each request to the next replica (nginx reloads its file)
                    assert HASH_LINE in site.read_text(), "the shipped file's balancing line changed"
                    site.write_text(site.read_text().replace(HASH_LINE, ""))
                    os.kill(groups["nginx"][0], signal.SIGHUP)
                    time.sleep(2.0)
                yield Running(port, groups, factory, cards)
    finally:
        for process in [*workers, *apis]:
            process.send_signal(signal.SIGINT)
        for process in [*workers, *apis]:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def measure(
    setup: Setup, root: Path, servers: Servers | None, args: argparse.Namespace, run: int
) -> tuple[dict[str, float], dict[str, dict]]:
    """Warm up, measure the idle CPU, then each load in turn; returns the idle cores by group, and by kind the
    CPU per event by group (idle CPU of the phase's length taken off), the count and the latency. With several
    stacks each takes its share of every load, all at once."""
    with running(setup, root, servers, args, run) as stacks:
        # Warm-up: imports, caches, connections, the gradebook; heartbeats on the other lecture (fresh sequences).
        for live in stacks:
            asyncio.run(heartbeat_load(live.port, live.cards[:50], 25, 2, LECTURES[1]))
            asyncio.run(page_load(live.port, live.cards, 10, 1))
            asyncio.run(submission_load(live.port, 0, WARM_SUBMISSIONS, 10))
            wait_graded(live.factory, WARM_SUBMISSIONS)
        time.sleep(1.0)
        before, wall = cpu_of(stacks), time.monotonic()
        time.sleep(args.idle)
        after, wall = cpu_of(stacks), time.monotonic() - wall
        idle = {g: (after[g] - before[g]) / wall for g in GROUPS}
        results: dict[str, dict] = {}
        submissions = int(args.submissions * args.seconds) // setup.stacks
        phases = {
            "heartbeat": lambda live, share: heartbeat_load(
                live.port, live.cards, args.heartbeats * share, args.seconds, LECTURES[0]
            ),
            "page": lambda live, share: page_load(live.port, live.cards, args.pages * share, args.seconds),
            "submission": lambda live, share: submission_load(
                live.port, WARM_SUBMISSIONS, submissions, args.submissions * share
            ),
        }
        for kind, load in phases.items():
            if kind not in args.only:
                continue
            before, wall = cpu_of(stacks), time.monotonic()
            latencies = across(stacks, load)
            if kind == "submission":
                for live in stacks:
                    wait_graded(live.factory, WARM_SUBMISSIONS + submissions)
            else:
                time.sleep(0.5)  # answers are sent after the commit; let the last group commits and logs settle
            after, wall = cpu_of(stacks), time.monotonic() - wall
            results[kind] = {
                "count": len(latencies),
                "ms": {g: max(0.0, after[g] - before[g] - idle[g] * wall) * 1000 / len(latencies) for g in GROUPS},
                "p50": percentile(latencies, 50),
                "p99": percentile(latencies, 99),
                "wall": wall,
            }
    return idle, results


def for_setup(args: argparse.Namespace, setup: Setup) -> argparse.Namespace:
    """The load ``setup`` gets: all of it; with ``--per-replica-load`` its replicas' share of the rates (and members)
    given for the most replicas, so that every API process sees the same load whatever the set-up."""
    share = setup.replicas * setup.stacks / MANY.replicas if args.per_replica_load else 1.0
    scaled = {name: getattr(args, name) * share for name in ("heartbeats", "pages", "submissions")}
    return argparse.Namespace(**{**vars(args), **scaled, "members": max(1, round(args.members * share))})


def best_of(runs: list[tuple[dict[str, float], dict[str, dict]]]) -> tuple[dict[str, float], dict[str, dict]]:
    """Over repeated runs of one set-up: by kind, the run with the least total CPU per event (the least disturbed
    by the machine's other work); the least idle cores by group."""
    idle = {g: min(r[0][g] for r in runs) for g in GROUPS}
    kinds = {k: min((r[1][k] for r in runs), key=lambda row: sum(row["ms"].values())) for k in runs[0][1]}
    return idle, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each load phase")
    parser.add_argument("--heartbeats", type=float, default=300.0, help="heartbeats/s offered")
    parser.add_argument("--pages", type=float, default=30.0, help="portal pages/s offered")
    parser.add_argument("--submissions", type=float, default=15.0, help="quiz submissions/s offered")
    parser.add_argument("--members", type=int, default=1000, help="members sending heartbeats and asking for pages")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle CPU measured per set-up")
    parser.add_argument("--repeat", type=int, default=1, help="runs of every set-up (forwards, backwards, ...)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 s phases at low rates")
    parser.add_argument(
        "--per-replica-load", action="store_true", help="a set-up with fewer replicas gets their share of the load"
    )
    parser.add_argument(
        "--only", nargs="+", choices=KINDS, default=list(KINDS), help="experiment: measure these loads only"
    )
    parser.add_argument(
        "--setups",
        nargs="+",
        type=int,
        choices=range(len(SETUPS)),
        help="experiment: run these set-ups only (0 SQLite, 1/2/3 PG with 1/2/4 replicas, 4 separate stacks)",
    )
    parser.add_argument(
        "--round-robin", action="store_true", help="experiment: nginx sends each request to the next replica"
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.heartbeats, args.pages, args.submissions, args.members = 3.0, 100.0, 10.0, 5.0, 200
        args.idle, args.repeat = 2.0, 1
    chosen = [SETUPS[i] for i in sorted(set(args.setups))] if args.setups else list(SETUPS)
    started, loads = time.monotonic(), []
    runs: dict[str, list] = {setup.label: [] for setup in chosen}
    order = [setups for n in range(args.repeat) for setups in (chosen if n % 2 == 0 else chosen[::-1])]
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        root = Path(tmp)
        with scratch_servers(root) as servers:
            for run, setup in enumerate(order):
                print(f"... {setup.label}", flush=True)
                load = for_setup(args, setup)
                runs[setup.label].append(measure(setup, root, servers if setup.postgres else None, load, run))
                loads.append(os.getloadavg()[0])
    idles = {label: best_of(r)[0] for label, r in runs.items()}
    figures = {label: best_of(r)[1] for label, r in runs.items()}
    kinds = [k for k in KINDS if k in args.only]
    total = {label: {k: sum(f[k]["ms"].values()) for k in kinds} for label, f in figures.items()}
    print(
        f"offered: {args.heartbeats:g} heartbeats/s ({args.members} members), {args.pages:g} portal pages/s,"
        f" {args.submissions:g} submissions/s (graded), {args.seconds:g} s each, "
        + (
            "to 4 replicas, the replicas' share of it to fewer (the same per replica);"
            if args.per_replica_load
            else "to every set-up;"
        )
        + f" {args.repeat} run(s) of each"
        f" set-up (best of); {os.cpu_count()} CPUs;"
        f" load average during the run {min(loads):.1f}-{max(loads):.1f}; {time.monotonic() - started:.0f} s in all"
    )
    print("idle CPU (cores) of each set-up with no load, by process group: taken off every phase below")
    for label, idle in idles.items():
        print(f"  {label:<31} " + " ".join(f"{g} {idle[g]:.3f}" for g in GROUPS))
    print("CPU ms per event (user + system, from /proc, less idle), by process group; x SQLite: total / SQLite's")
    head = f"{'set-up':<31} {'event':<11} {'n':>5} " + " ".join(f"{g:>10}" for g in GROUPS)
    print(f"{head} {'total':>7} {'x SQLite':>8} {'p50 ms':>7} {'p99 ms':>7}")
    baseline = total.get(BASELINE.label)
    for label, figure in figures.items():
        for kind in kinds:
            row = figure[kind]
            groups = " ".join(f"{row['ms'][g]:>10.2f}" for g in GROUPS)
            ratio = f"{total[label][kind] / baseline[kind]:>8.2f}" if baseline else f"{'-':>8}"
            print(
                f"{label:<31} {kind:<11} {row['count']:>5} {groups} {total[label][kind]:>7.2f} {ratio}"
                f" {row['p50'] * 1000:>7.1f} {row['p99'] * 1000:>7.1f}"
            )
    if len(chosen) < len(SETUPS) or len(kinds) < len(KINDS):
        print("(an experiment: --only / --setups left set-ups or loads out, so no mix or overhead line)")
        return
    rates = NATIONAL_PEAK.rates()
    mix = ", ".join(f"{rates[k]:,.0f} {k}s/s" for k in KINDS)
    sqlite_ratio = coordination_overhead(total[BASELINE.label], total[ONE.label]) + 1
    print(f"national evening peak mix: {mix}")
    print(f"PostgreSQL + Redis + nginx (1 replica, 1 worker host) against SQLite, one process: {sqlite_ratio:.2f}x CPU")
    for setup in SETUPS[2:]:
        extra = coordination_overhead(total[ONE.label], total[setup.label]) * 100
        print(f"{setup.label} against 1 replica, 1 worker host: {extra:+.1f}% CPU for the peak's mix")
    overhead = coordination_overhead(total[APART.label], total[MANY.label]) * 100
    print(f"coordination overhead: {overhead:.1f}%")  # goal <= 10 %; the definition: the docstring


if __name__ == "__main__":
    main()
