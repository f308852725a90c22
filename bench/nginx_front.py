"""What nginx in front saves the API: CPU per media segment and per heartbeat, with and without the shipped
deploy/nginx/diemcau.conf (docs/deploy-nginx.md, docs/benchmarks.md).

    .venv/bin/python bench/nginx_front.py [--requests 300] [--segment-kib 1024]

One API process (bench/api_server.py: the real app, the test identity) on a seeded SQLite province with one ready
lecture whose segment is ``--segment-kib`` KiB, and nginx with the shipped file rendered for it. Sequential
requests from one keep-alive client, first straight to the API (the API sends the bytes), then through nginx
(the API answers the auth subrequest; nginx sends the bytes). CPU is read from /proc for the API process and for
nginx's processes; wall time per request is the client's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from tests.apiclient import PREFIX, auth, token_of  # noqa: E402
from tests.data_dirs import data_dir_environ  # noqa: E402
from tests.media_fixtures import FAKE_SHA, seed_lecture_media  # noqa: E402
from tests.nginx_front import free_port, running_nginx, wait_for_port  # noqa: E402
from tests.seed import TODAY, seed_small_province  # noqa: E402
from tests.transcript_fixtures import LECTURE_ID, opened_yesterday  # noqa: E402

from diemcau.adapters.nginx_config import NginxFront  # noqa: E402
from diemcau.apps import setup_steps  # noqa: E402
from diemcau.settings import load_settings  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def nginx_pids(folder: Path) -> list[int]:
    """nginx's master and workers (the master's pid file, its children from /proc)."""
    master = int((folder / "nginx.pid").read_text())
    children = [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    return [master, *children]


def run(client: httpx.Client, method: str, url: str, count: int, api: int, nginx: list[int], **kwargs) -> dict:  # type: ignore[no-untyped-def]
    """``count`` requests; the API's and nginx's CPU per request (ms) and the client's median wall time (ms)."""
    walls = []
    before = (cpu_seconds([api]), cpu_seconds(nginx))
    for i in range(count):
        started = time.perf_counter()
        body = kwargs.get("json_of", lambda _: None)(i)
        response = client.request(method, url, headers=auth("member"), json=body)
        walls.append(time.perf_counter() - started)
        assert response.status_code in (200, 206), (url, response.status_code, response.text[:200])
    after = (cpu_seconds([api]), cpu_seconds(nginx))
    return {
        "api_ms": (after[0] - before[0]) * 1000 / count,
        "nginx_ms": (after[1] - before[1]) * 1000 / count,
        "wall_ms": statistics.median(walls) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--segment-kib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        root = Path(tmp)
        settings = load_settings(data_dir_environ(root))
        setup_steps.ensure_data_dir(settings)
        factory = setup_steps.ensure_database(settings)
        seeded = seed_small_province(factory)
        seed_lecture_media(settings, factory)
        opened_yesterday(factory, seeded["users"].values())
        (settings.media_dir / FAKE_SHA / "audio" / "seg_00000.ts").write_bytes(os.urandom(args.segment_kib * 1024))
        tokens = root / "tokens.json"
        tokens.write_text(json.dumps({token_of(role): name for role, name in seeded["users"].items()}))
        api_port, nginx_port = free_port(), free_port()
        command = [sys.executable, str(Path(__file__).with_name("api_server.py")), settings.database_url]
        command += [str(api_port), str(tokens), str(settings.home), TODAY.isoformat()]
        api = subprocess.Popen(command, env={**os.environ, **data_dir_environ(root)})
        try:
            wait_for_port(api_port, 60)
            address = f"127.0.0.1:{api_port}"
            front = NginxFront((f"127.0.0.1:{nginx_port}",), (address,), str(settings.media_dir), address)
            with running_nginx(front, root / "nginx"), httpx.Client(timeout=30) as client:
                nginx = nginx_pids(root / "nginx")
                segment = f"{PREFIX}/api/media/{LECTURE_ID}/audio/seg_00000.ts"
                progress = f"{PREFIX}/api/lectures/{LECTURE_ID}/progress"

                def beat(i: int) -> dict:
                    return {"events": [{"event_id": f"b{i}", "kind": "heartbeat", "start": 0, "end": 5, "seq": i + 1}]}

                rows = []
                for label, base in (
                    ("API alone", f"http://{address}"),
                    ("nginx in front", f"http://127.0.0.1:{nginx_port}"),
                ):
                    run(client, "GET", base + segment, 20, api.pid, nginx)  # warm-up
                    rows.append((label, "segment", run(client, "GET", base + segment, args.requests, api.pid, nginx)))
                    rows.append(
                        (
                            label,
                            "heartbeat",
                            run(client, "POST", base + progress, args.requests, api.pid, nginx, json_of=beat),
                        )
                    )
        finally:
            api.terminate()
            api.wait(10)
    print(f"{args.requests} sequential requests each; segment {args.segment_kib} KiB")
    print(f"{'path':<16} {'request':<10} {'API CPU ms':>11} {'nginx CPU ms':>13} {'median wall ms':>15}")
    for label, kind, row in rows:
        print(f"{label:<16} {kind:<10} {row['api_ms']:>11.2f} {row['nginx_ms']:>13.2f} {row['wall_ms']:>15.2f}")


if __name__ == "__main__":
    main()
