"""The cluster's network: one namespace per host, each joined to a bridge in the machine's own namespace by a
veth pair. Everything here is an ``ip`` command (iproute2), run as root."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from diemcau.devcluster.topology import Topology

NETNS_DIR = "/run/netns"  # where ``ip netns add`` mounts each namespace


class NetworkError(RuntimeError):
    """An ``ip`` command failed (not root, no iproute2, a name already taken)."""


def _ip(*args: str, check: bool = True) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise NetworkError(f"ip {' '.join(args)}: {result.stderr.strip() or result.returncode}")
    return result.stdout


def create(topology: Topology) -> None:
    """Make the bridge and every host's namespace, each with its address on eth0 and loopback up. Whatever a
    failure leaves half made is removed again."""
    try:
        _ip("link", "add", topology.bridge, "type", "bridge")
        _ip("addr", "add", f"{topology.gateway}/24", "dev", topology.bridge)
        _ip("link", "set", topology.bridge, "up")
        for host in topology.hosts:
            namespace, (outer, inner) = topology.namespace(host), topology.links(host)
            _ip("netns", "add", namespace)
            _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
            _ip("link", "set", inner, "netns", namespace)
            _ip("-n", namespace, "link", "set", inner, "name", "eth0")
            _ip("-n", namespace, "addr", "add", f"{host.address}/24", "dev", "eth0")
            _ip("-n", namespace, "link", "set", "eth0", "up")
            _ip("-n", namespace, "link", "set", "lo", "up")
            _ip("-n", namespace, "route", "add", "default", "via", topology.gateway)
            _ip("link", "set", outer, "master", topology.bridge)
            _ip("link", "set", outer, "up")
    except BaseException:
        destroy(topology)
        raise


def pids(namespace: str) -> list[int]:
    """The processes running in ``namespace`` (none when it does not exist). ``ip netns pids`` walks /proc and
    can fail while processes come and go: it is asked again, and a namespace that exists but cannot be listed is
    an error, never "nothing runs there" (``kill_all`` would stop early and leave processes behind)."""
    for attempt in range(10):
        if not Path(NETNS_DIR, namespace).exists():
            return []
        result = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return [int(pid) for pid in result.stdout.split()]
        time.sleep(0.05 * (attempt + 1))
    raise NetworkError(f"ip netns pids {namespace}: {result.stderr.strip() or result.returncode}")


def kill_all(namespace: str, sig: signal.Signals = signal.SIGKILL, wait: float = 10.0) -> None:
    """Send ``sig`` to every process of ``namespace`` (a host losing power, with SIGKILL) and wait until they are
    gone (SIGKILL: at once)."""
    deadline = time.monotonic() + wait
    while (running := pids(namespace)) and time.monotonic() < deadline:
        for pid in running:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def destroy(topology: Topology) -> None:
    """Remove every namespace (killing what still runs there), its links and the bridge; quiet about what is
    already gone."""
    for host in topology.hosts:
        namespace = topology.namespace(host)
        kill_all(namespace)
        _ip("netns", "del", namespace, check=False)
        _ip("link", "del", topology.links(host)[0], check=False)
    _ip("link", "del", topology.bridge, check=False)


def command(namespace: str, *argv: str) -> list[str]:
    """``argv`` run inside ``namespace``."""
    return ["ip", "netns", "exec", namespace, *argv]


def existing_subnets() -> set[int]:
    """The third octets of the 10.231.x.0/24 networks already on this machine (other clusters)."""
    found = set()
    for line in _ip("-o", "-4", "addr", "show", check=False).splitlines():
        for word in line.split():
            if word.startswith("10.231."):
                found.add(int(word.split(".")[2]))
    return found
