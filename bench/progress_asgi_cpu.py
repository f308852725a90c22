"""CPU per progress post inside the API app alone (no HTTP server, no sockets): fast path on against off.

    .venv/bin/python bench/progress_asgi_cpu.py [--posts 2000] [--concurrency 1 20]

Builds the real app (``create_app``) on a fresh SQLite database seeded like the tests (``tests/seed.py``), warms
its caches, then calls it as uvicorn would — an ASGI ``http`` scope, the body in one message — ``--posts``
times, ``--concurrency`` at once, with ``settings.perf.fast_progress`` on and then off, and prints the process
CPU (``time.process_time``: the event loop and the group-commit thread together) per post. Unlike
``progress_ingest.py`` this leaves out uvicorn's HTTP parsing, the sockets and the client processes competing for
the cores, so it shows what the app itself costs per heartbeat, and how much of it is the framework.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from starlette.types import ASGIApp, Message
from tests.apiclient import PREFIX, seeded_client, token_of
from tests.data_dirs import data_dir_environ
from tests.transcript_fixtures import LECTURE_ID, opened_yesterday, seed_lecture

from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker
from diemcau.settings import load_settings

PATH = f"{PREFIX}/api/lectures/{LECTURE_ID}/progress"


def _scope() -> dict:
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"accept", b"*/*"),
        (b"authorization", f"Bearer {token_of('member')}".encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


async def _post(app: ASGIApp, n: int) -> None:
    """One heartbeat (its own event id), as uvicorn hands it to the app; fails unless answered 200."""
    start = n * 15.0 % 600
    body = json.dumps(
        {"events": [{"event_id": f"e{n}", "kind": "heartbeat", "start": start, "end": start + 15, "seq": n}]}
    ).encode()
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop() if messages else await asyncio.Event().wait()  # then: never disconnects

    async def send(message: Message) -> None:
        sent.append(message)

    await app(_scope(), receive, send)
    assert sent[0]["status"] == 200, sent


async def _posts(app: ASGIApp, first: int, count: int, concurrency: int) -> None:
    for start in range(first, first + count, concurrency):
        await asyncio.gather(*(_post(app, n) for n in range(start, min(first + count, start + concurrency))))


def cpu_per_post(fast: bool, posts: int, concurrency: int) -> float:
    """Process CPU milliseconds per post through a fresh app (caches warmed first)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = load_settings(data_dir_environ(root, DIEMCAU_PERF__FAST_PROGRESS=str(fast).lower()))
        engine = make_engine(f"sqlite:///{root / 'bench.sqlite'}")
        ensure_schema(engine)
        factory = make_sessionmaker(engine)
        client, seeded = seeded_client(settings, factory)
        seed_lecture(factory)
        # Posts arrive far faster than real time: opened a day ago, they are honest traffic, not refusals.
        opened_yesterday(factory, seeded["users"].values())
        asyncio.run(_posts(client.app, 10**6, 200, concurrency))  # warm: caches, the writer thread
        started = time.process_time()
        asyncio.run(_posts(client.app, 0, posts, concurrency))
        used = time.process_time() - started
        engine.dispose()
    return used * 1000 / posts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 20])
    args = parser.parse_args()
    for concurrency in args.concurrency:
        on, off = (cpu_per_post(fast, args.posts, concurrency) for fast in (True, False))
        print(
            f"{args.posts} posts, {concurrency} at once: fast path on {on:.3f} ms CPU per post,"
            f" off (through FastAPI) {off:.3f} ms: {off / on:.2f}x"
        )


if __name__ == "__main__":
    main()
