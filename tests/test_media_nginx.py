"""The documented nginx config (docs/nginx-media.conf) against a real nginx and the real API on a port.

nginx is not among the platform's dependencies, so this runs only where an nginx binary is found (``nginx`` on
PATH, or ``DIEMCAU_TEST_NGINX=/path/to/nginx``) and is skipped elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from diemcau.apps.api.app import create_app
from tests.apiclient import PREFIX, auth, token_of
from tests.fakes import StaticTokenIdentity
from tests.media_fixtures import FAKE_SHA, seed_lecture_media
from tests.seed import TODAY, seed_small_province
from tests.transcript_fixtures import LECTURE_ID

CONFIG = Path(__file__).resolve().parents[1] / "docs" / "nginx-media.conf"
NGINX = os.environ.get("DIEMCAU_TEST_NGINX") or shutil.which("nginx")
pytestmark = pytest.mark.skipif(NGINX is None, reason="no nginx binary (set DIEMCAU_TEST_NGINX to run)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture
def front(settings, sqlite_factory, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """nginx with the documented config in front of the API (served by uvicorn); yields nginx's base URL."""
    seeded = seed_small_province(sqlite_factory)
    seed_lecture_media(settings, sqlite_factory)
    identity = StaticTokenIdentity({token_of(role): name for role, name in seeded["users"].items()})
    app = create_app(settings, identity, session_factory=sqlite_factory, today=lambda: TODAY)
    api_port, nginx_port = free_port(), free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=api_port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    wait_for_port(api_port)
    config = tmp_path / "nginx.conf"
    values = {
        "LISTEN": f"127.0.0.1:{nginx_port}",
        "API": f"127.0.0.1:{api_port}",
        "HUB_PROXY": f"127.0.0.1:{api_port}",
        "MEDIA_ROOT": str(settings.media_dir),
        "PREFIX": PREFIX,
    }
    text = CONFIG.read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = " ".join(f"{kind}_temp_path {tmp_path / kind};" for kind in kinds)
    config.write_text(text.replace("http {", "http {\n    " + temp, 1))  # nginx's own folders, in tmp
    # As root, nginx's workers would drop to nobody, who cannot read pytest's private tmp folders.
    directives = f"daemon off; pid {tmp_path / 'nginx.pid'}; error_log stderr warn;"
    directives += " user root;" if os.geteuid() == 0 else ""
    nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(config), "-e", "stderr", "-g", directives])
    try:
        wait_for_port(nginx_port)
        yield f"http://127.0.0.1:{nginx_port}{PREFIX}/api/media/{LECTURE_ID}"
    finally:
        nginx.terminate()
        nginx.wait(10)
        server.should_exit = True


def test_nginx_serves_what_the_api_allows(front: str, settings) -> None:  # type: ignore[no-untyped-def]
    """Does nginx send a member the file (with its type and Range), and refuse others as the API says?"""
    segment = settings.media_dir / FAKE_SHA / "audio" / "seg_00000.ts"
    with httpx.Client() as client:
        master = client.get(f"{front}/master.m3u8", headers=auth("member"))
        assert master.status_code == 200 and master.headers["content-type"] == "application/vnd.apple.mpegurl"
        part = client.get(f"{front}/audio/seg_00000.ts", headers=auth("member", Range="bytes=10-19"))
        assert part.status_code == 206 and part.content == segment.read_bytes()[10:20]
        assert part.headers["content-range"] == f"bytes 10-19/{segment.stat().st_size}"
        assert part.headers["content-type"] == "video/mp2t"
        assert client.get(f"{front}/master.m3u8").status_code == 401
        assert client.get(f"{front}/master.m3u8", headers=auth("other_cell")).status_code == 403
        assert client.get(f"{front}/audio/missing.ts", headers=auth("member")).status_code == 403
        assert client.get(f"{front}/..%2F..%2Fdiemcau.sqlite", headers=auth("admin")).status_code in (400, 403, 404)
