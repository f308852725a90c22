"""The worker's one way out: a small forward proxy that resolves, checks and connects (like Stripe's Smokescreen).

Why a proxy rather than a check in each client: a publish-by-URL is fetched by yt-dlp's own HTTP stack, by its
native HLS downloader (playlist, then every segment), and, for streams it cannot handle itself, by an ``ffmpeg``
child process. Checking the URL before handing it over leaves every later hop unchecked (redirects, segment URLs,
whatever an extractor finds in a page) and leaves a DNS-rebinding gap (the client resolves the name again when
it connects). Instead every one of those clients is pointed at this proxy, and the proxy does the only name
resolution: it resolves the host, refuses unless every address is allowed by the ``EgressPolicy``, and connects
to the address it checked. HTTPS goes through ``CONNECT`` (TLS stays end to end, so certificates are still
checked against the name); plain HTTP is forwarded one request per connection.

A refusal is answered with 403 before anything is connected, and recorded here, so the fetch can report one
message whatever the destination would have answered. ``fetch.py`` makes sure no client goes around it.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol
from urllib.parse import urlsplit

from diemcau.core.egress import EgressPolicy, IPAddress

MAX_HEAD_BYTES = 64 * 1024
CHUNK = 64 * 1024
# Hop-by-hop headers of the client's request to the proxy; the origin gets "Connection: close" instead.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authorization", "upgrade"})
log = logging.getLogger(__name__)


class Network(Protocol):
    """Names to addresses, addresses to connections: the system's DNS and sockets, or a fake in tests."""

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """The addresses of ``host``; raises ``OSError`` when it has none."""
        ...

    def connect(self, address: IPAddress, port: int, timeout: float) -> socket.socket:
        """A connection to exactly ``address``; raises ``OSError`` when it cannot be made."""
        ...


class SystemNetwork:
    """The system resolver (``getaddrinfo``) and plain TCP connections."""

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))

    def connect(self, address: IPAddress, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((str(address), port), timeout=timeout)


@dataclass(frozen=True)
class Refusal:
    """A destination the guard did not connect to: ``forbidden`` by the policy, ``unresolvable``, or
    ``unreachable`` (every checked address failed to connect)."""

    host: str
    port: int
    reason: str


class _Refused(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


def close_proxy_exemptions() -> None:
    """Drop ``no_proxy``/``NO_PROXY`` from this process's environment.

    yt-dlp starts ``ffmpeg`` with a copy of the environment plus ``http_proxy`` pointing at the guard, and
    ffmpeg connects directly to any host ``no_proxy`` names (often ``localhost,127.0.0.1``): that would be a
    way around the guard. The worker's fetches have no business with exemptions, so there are none.
    """
    for name in ("no_proxy", "NO_PROXY"):  # noqa: SIM112 - ffmpeg reads the lower-case one
        if os.environ.pop(name, None) is not None:
            log.warning("ignoring %s in the worker: every media fetch goes through the egress guard", name)


class EgressGuard:
    """A forward proxy on a random loopback port for the duration of one fetch (a context manager).

    ``proxy_url`` is what the clients are given; ``refusals`` what was not connected, and why.
    """

    def __init__(self, policy: EgressPolicy, network: Network | None = None, timeout: float = 30.0) -> None:
        self.policy = policy
        self.network: Network = network or SystemNetwork()
        self.timeout = timeout
        self._refusals: list[Refusal] = []
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._server: socketserver.ThreadingTCPServer | None = None

    @property
    def proxy_url(self) -> str:
        """``http://127.0.0.1:<port>``, once started."""
        assert self._server is not None, "the guard is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def refusals(self) -> list[Refusal]:
        """Every destination refused or failed so far, in order."""
        with self._lock:
            return list(self._refusals)

    def refused(self, reason: str) -> bool:
        """Was any destination refused for ``reason`` (forbidden, unresolvable, unreachable)?"""
        return any(r.reason == reason for r in self.refusals)

    def __enter__(self) -> EgressGuard:
        close_proxy_exemptions()
        guard = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                guard._serve(self.request)

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), name="egress-guard", daemon=True).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._lock:
            left, self._open = list(self._open), set()
        for sock in left:
            sock.close()

    def connect(self, host: str, port: int) -> socket.socket:
        """Resolve ``host``, check every address, and connect to a checked one; raises ``_Refused``."""
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                addresses = self.network.resolve(host, port)
            except (OSError, UnicodeError):
                raise self._refuse(host, port, "unresolvable", 502) from None
        if not self.policy.permits_all(addresses):
            log.warning("egress guard refused %s:%d (%s)", host, port, ", ".join(map(str, addresses)))
            raise self._refuse(host, port, "forbidden", 403)
        for address in addresses:
            try:
                return self.network.connect(address, port, self.timeout)
            except OSError:
                continue
        raise self._refuse(host, port, "unreachable", 502)

    def _refuse(self, host: str, port: int, reason: str, status: int) -> _Refused:
        with self._lock:
            self._refusals.append(Refusal(host, port, reason))
        return _Refused(status)

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(self.timeout)
        with self._tracked(client):
            try:
                host, port, reply, first = _request(client)
                upstream = self.connect(host, port)
            except _Refused as refused:
                _answer(client, refused.status)
                return
            except (ValueError, OSError):
                _answer(client, 400)
                return
            with self._tracked(upstream):
                upstream.settimeout(self.timeout)
                try:
                    client.sendall(reply)
                    upstream.sendall(first)
                except OSError:
                    return
                _pipe(client, upstream, self.timeout * 2)

    @contextmanager
    def _tracked(self, sock: socket.socket) -> Iterator[None]:
        with self._lock:
            self._open.add(sock)
        try:
            yield
        finally:
            with self._lock:
                self._open.discard(sock)
            sock.close()


def _request(client: socket.socket) -> tuple[str, int, bytes, bytes]:
    """Read a request to the proxy: (host, port, what the client is answered once connected, what the origin
    is sent first). CONNECT opens a tunnel; an absolute ``http://`` request is forwarded in origin form."""
    head, rest = _read_head(client)
    method, target, headers = _parse_head(head)
    if method == "CONNECT":
        host, port = _authority(target)
        return host, port, b"HTTP/1.1 200 Connection established\r\n\r\n", rest
    host, port, path = _absolute_http(target)
    return host, port, b"", _forwarded_head(method, path, headers) + rest


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """The request head (up to the blank line) and whatever followed it in the same reads."""
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(CHUNK)
        if not chunk or len(buffer) + len(chunk) > MAX_HEAD_BYTES:
            raise ValueError("no complete request head")
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    return head, rest


def _parse_head(head: bytes) -> tuple[str, str, list[tuple[str, str]]]:
    """(method, request target, headers) of a request head (pure)."""
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = [(name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in lines[1:] if line)]
    return method.upper(), target, headers


def _authority(target: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``) of a CONNECT request (pure); the port is required."""
    parts = urlsplit(f"//{target}")
    if not parts.hostname or parts.port is None:
        raise ValueError(f"bad CONNECT target {target!r}")
    return parts.hostname, parts.port


def _absolute_http(target: str) -> tuple[str, int, str]:
    """(host, port, origin-form path) of an absolute ``http://`` request target (pure)."""
    parts = urlsplit(target)
    if parts.scheme.lower() != "http" or not parts.hostname:
        raise ValueError(f"not an absolute http URL: {target!r}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, parts.port or 80, path


def _forwarded_head(method: str, path: str, headers: list[tuple[str, str]]) -> bytes:
    """The request as the origin gets it: origin-form, no proxy headers, one request per connection (pure)."""
    kept = [f"{name}: {value}" for name, value in headers if name.lower() not in _HOP_BY_HOP]
    return "\r\n".join([f"{method} {path} HTTP/1.1", *kept, "Connection: close", "", ""]).encode("latin-1")


def _answer(client: socket.socket, status: int) -> None:
    reason = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[status]
    try:
        client.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
    except OSError:
        pass


def _pipe(a: socket.socket, b: socket.socket, idle: float) -> None:
    """Copy bytes both ways until either side closes or nothing moves for ``idle`` seconds."""
    peers = {a: b, b: a}
    while True:
        try:
            ready, _, _ = select.select(list(peers), [], [], idle)
            if not ready:
                return
            for sock in ready:
                data = sock.recv(CHUNK)
                if not data:
                    return
                peers[sock].sendall(data)
        except (OSError, ValueError):
            return
