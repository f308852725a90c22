"""A real nginx running the shipped deploy/nginx/diemcau.conf, rendered as an operator renders it, and real API
replicas (uvicorn on random ports) behind it, each with a log of what reached it.

nginx is found on PATH (or ``DIEMCAU_TEST_NGINX=/path/to/nginx``). Without it the nginx tests are skipped, except
under ``make test``, which sets ``DIEMCAU_REQUIRE_NGINX=1``: then they fail (scripts/ensure_system.sh installs it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Collection, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from diemcau.adapters.nginx_config import TEMPLATE, NginxFront, render

NGINX = os.environ.get("DIEMCAU_TEST_NGINX") or shutil.which("nginx") or shutil.which("/usr/sbin/nginx")


def require_nginx() -> str:
    """The nginx binary; a skip without one, or a failure under ``make test`` (``DIEMCAU_REQUIRE_NGINX=1``)."""
    if NGINX is None:
        if os.environ.get("DIEMCAU_REQUIRE_NGINX") == "1":
            pytest.fail("nginx is required but not found; run scripts/ensure_system.sh test (Debian's nginx)")
        pytest.skip("no nginx binary (set DIEMCAU_TEST_NGINX to run)")
    return NGINX


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def steering(landed: Callable[[dict[str, str]], Hashable], wanted: Collection[Hashable]) -> dict[Hashable, dict]:
    """Headers that take a caller to each ``wanted`` replica. nginx hashes a caller's credentials to one replica
    (deploy/nginx/diemcau.conf), so a test that must reach a given one adds a throwaway cookie (``steer=N``) that
    lands there: ``landed(headers)`` sends one harmless request with them and says where it was served."""
    found: dict[Hashable, dict] = {}
    for n in range(64):
        headers = {"Cookie": f"steer={n}"}
        where = landed(headers)
        if where in wanted:
            found.setdefault(where, headers)
        if len(found) == len(wanted):
            return found
    raise AssertionError(f"no cookie of 64 reached {set(wanted) - set(found)}")


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@dataclass
class Seen:
    """One request as a replica saw it, and how many body bytes it has answered with so far."""

    method: str
    path: str
    tag: str  # the request's X-Test-Tag header, if any
    body_bytes: int = 0


@dataclass
class ReplicaLog:
    """ASGI middleware around one replica's app: records each request's method, path and answered body bytes
    (noted when the request arrives and as each body part leaves, so before the client has its answer)."""

    app: ASGIApp
    seen: list[Seen] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tag = dict(scope["headers"]).get(b"x-test-tag", b"").decode()
        seen = Seen(scope["method"], scope["path"], tag)
        self.seen.append(seen)

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.body":
                seen.body_bytes += len(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, counting)


class Replica:
    """One API process stand-in: the app (behind its ``ReplicaLog``) served by uvicorn on a thread."""

    def __init__(self, app: ASGIApp) -> None:
        self.log = ReplicaLog(app)
        self.port = free_port()
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Replica:
        config = uvicorn.Config(self.log, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(10)
            self.server = self.thread = None


class RecordingPeer:
    """A named fake server that reads each request, records its head, then answers ``answer`` — or, with
    ``None``, closes the connection without answering, as an API process killed mid-request would. It stands in
    for a dying replica (what did nginx send it, and did nginx send that again elsewhere?) and for the hub's
    proxy (what reached it?)."""

    HUB_ANSWER = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot here\n"

    def __init__(self, answer: bytes | None = None) -> None:
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if data:
                    head, _, body = data.partition(b"\r\n\r\n")
                    self.requests.append(head)
                    if self.answer is not None:
                        self._drain(connection, head, body)
                        connection.sendall(self.answer)

    @staticmethod
    def _drain(connection: socket.socket, head: bytes, body: bytes) -> None:
        """Read the request's body to its end (Content-Length, or the last chunk) before answering."""
        fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
        fields = {name.strip().lower(): value.strip() for name, value in fields.items()}
        length = int(fields.get(b"content-length", b"0"))
        chunked = fields.get(b"transfer-encoding", b"").lower() == b"chunked"
        while (len(body) < length) if not chunked else not body.endswith(b"0\r\n\r\n"):
            chunk = connection.recv(65536)
            if not chunk:
                return
            body += chunk

    def close(self) -> None:
        self.listener.close()


MAIN_CONFIG = """\
worker_processes 1;
events {{}}
http {{
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    log_format front '$request_method $request_uri $status $upstream_addr';
    access_log {tmp}/access.log front;
    include {site};
}}
"""


@contextmanager
def running_nginx(front: NginxFront, folder: Path) -> Iterator[Path]:
    """nginx with the shipped file rendered for ``front`` (exactly as ``diemcau deploy nginx-config`` prints it)
    included in a minimal main config of the test's own (temp folders, pid, logs in ``folder``); yields the
    rendered file. nginx stops when the block ends."""
    binary = require_nginx()
    folder.mkdir(parents=True, exist_ok=True)
    site = folder / "diemcau.conf"
    site.write_text(render(TEMPLATE.read_text("utf-8"), front))
    main = folder / "nginx.conf"
    main.write_text(MAIN_CONFIG.format(tmp=folder, site=site))
    # As root, nginx's workers would drop to nobody, who cannot read pytest's private tmp folders.
    directives = f"daemon off; pid {folder / 'nginx.pid'}; error_log {folder / 'error.log'} warn;"
    directives += " user root;" if os.geteuid() == 0 else ""
    process = subprocess.Popen([binary, "-p", str(folder), "-c", str(main), "-e", "stderr", "-g", directives])
    try:
        port = int(front.listen[0].rsplit(":", 1)[1])
        wait_for_port(port)
        yield site
    finally:
        process.terminate()
        process.wait(10)
