"""A weak rural link for benchmarks: a network namespace behind a veth pair shaped to a rate, plus latency.

``tc netem`` is the tool for this, but not every kernel has it: this machine's (a Firecracker guest kernel,
6.18) answers ``Error: Specified qdisc kind is unknown`` for ``netem`` (and ``fq_codel``, ``cake``) while
``tbf`` and ``htb`` work. So the link is built from what is there:

* **rate** — ``tbf`` on both ends of the veth pair (the host end shapes the downlink, the namespace end the
  uplink), in the kernel, exactly as netem's ``rate`` would;
* **latency** — ``DelayRelay``, a TCP relay on the host end that holds every chunk for half the RTT in each
  direction (and one extra RTT before a connection's first bytes, for the TCP handshake it hides).

At 256 kbps and 300 ms the bandwidth-delay product is 9.6 KB, below TCP's initial window (10 segments), so a
real link of these figures is bound by rate after the first round trip; the relay reproduces that round trip
on every request/response turn, which is what a player's start-up pays. Everything here needs root.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
from contextlib import contextmanager
from collections.abc import Iterator
from dataclasses import dataclass

HOST_IP, CLIENT_IP = "10.77.0.1", "10.77.0.2"


@dataclass(frozen=True)
class LinkSpec:
    """The link to emulate."""

    rate_kbit: int = 256
    rtt_ms: int = 300
    queue_bytes: int = 64_000  # ~2 s at 256 kbps: a 3G bearer's deep buffer


def _ip(*args: str, netns: str | None = None) -> None:
    prefix = ["ip", "netns", "exec", netns] if netns else []
    subprocess.run([*prefix, *args], check=True, capture_output=True, text=True)


def netem_available() -> str:
    """'' when ``tc qdisc ... netem`` works here, else the error the kernel gave."""
    made = subprocess.run(
        ["ip", "link", "add", "dcprobe0", "type", "veth", "peer", "name", "dcprobe1"], capture_output=True, text=True
    )
    if made.returncode != 0:
        return made.stderr.strip()
    try:
        result = subprocess.run(
            ["tc", "qdisc", "add", "dev", "dcprobe0", "root", "netem", "delay", "10ms"], capture_output=True, text=True
        )
        return "" if result.returncode == 0 else result.stderr.strip()
    finally:
        subprocess.run(["ip", "link", "del", "dcprobe0"], capture_output=True)


@contextmanager
def namespace(name: str, spec: LinkSpec, use_netem: bool) -> Iterator[str]:
    """A namespace ``name`` reaching the host at ``HOST_IP`` through a shaped veth pair; yields its name."""
    host, peer = f"{name[:8]}h", f"{name[:8]}c"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    _ip("ip", "netns", "add", name)
    try:
        _ip("ip", "link", "add", host, "type", "veth", "peer", "name", peer)
        _ip("ip", "link", "set", peer, "netns", name)
        _ip("ip", "addr", "add", f"{HOST_IP}/24", "dev", host)
        _ip("ip", "link", "set", host, "up")
        _ip("ip", "addr", "add", f"{CLIENT_IP}/24", "dev", peer, netns=name)
        _ip("ip", "link", "set", peer, "up", netns=name)
        _ip("ip", "link", "set", "lo", "up", netns=name)
        for device, netns in ((host, None), (peer, name)):
            if use_netem:
                qdisc = [
                    "netem",
                    "delay",
                    f"{spec.rtt_ms // 2}ms",
                    "rate",
                    f"{spec.rate_kbit}kbit",
                    "limit",
                    str(spec.queue_bytes // 1500),
                ]
            else:
                qdisc = ["tbf", "rate", f"{spec.rate_kbit}kbit", "burst", "4000", "limit", str(spec.queue_bytes)]
            _ip("tc", "qdisc", "add", "dev", device, "root", *qdisc, netns=netns)
        yield name
    finally:
        subprocess.run(["ip", "link", "del", host], capture_output=True)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


class DelayRelay:
    """Forwards ``listen`` → ``target`` (TCP), delaying each direction by ``one_way`` seconds, in a thread."""

    def __init__(self, listen: tuple[str, int], target: tuple[str, int], one_way: float) -> None:
        self.listen, self.target, self.one_way = listen, target, one_way
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delay-relay", daemon=True)

    def __enter__(self) -> DelayRelay:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, *self.listen))
        self._ready.set()
        self.loop.run_forever()
        server.close()

    async def _serve(self, client_reader, client_writer) -> None:  # type: ignore[no-untyped-def]
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        # The handshake a real 300 ms link would cost before the first request leaves: one extra RTT.
        upstream = self._pipe(client_reader, server_writer, first_extra=2 * self.one_way)
        await asyncio.gather(upstream, self._pipe(server_reader, client_writer), return_exceptions=True)
        for writer in (client_writer, server_writer):
            writer.close()

    async def _pipe(self, reader, writer, first_extra: float = 0.0) -> None:  # type: ignore[no-untyped-def]
        """A delay line: every chunk leaves ``one_way`` seconds after it arrived, in order."""
        queue: asyncio.Queue = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - self.loop.time()))
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()

        sender = asyncio.ensure_future(deliver())
        extra = first_extra
        try:
            while True:
                data = await reader.read(65536)
                queue.put_nowait((self.loop.time() + self.one_way + extra, data))
                extra = 0.0
                if not data:
                    break
        except OSError:
            queue.put_nowait((self.loop.time(), b""))
        await sender
