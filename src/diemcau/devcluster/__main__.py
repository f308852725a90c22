"""``python -m diemcau.devcluster`` (``make cluster``): start the cluster, say where everything is, and run until
Ctrl-C, then take it all down (nothing is left running, no namespace or link is left behind)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from diemcau.devcluster.cluster import Cluster
from diemcau.devcluster.netns import NetworkError
from diemcau.devcluster.services import ServiceError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m diemcau.devcluster", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("var/cluster"), help="folder for its files (var/cluster)")
    parser.add_argument("--worker-hosts", type=int, default=2, help="worker hosts (default 2)")
    options = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("devcluster: network namespaces need root (run as root or with sudo)", file=sys.stderr)
        return 1
    cluster = Cluster.plan(options.root.resolve(), options.worker_hosts, durable=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        cluster.start()
    except (NetworkError, ServiceError) as error:
        print(f"devcluster: {error}", file=sys.stderr)
        return 1
    try:
        topology = cluster.topology
        print(f"devcluster {topology.tag} on 10.231.{topology.subnet}.0/24; files in {cluster.root}")
        for host in topology.hosts:
            print(f"  {host.name:<8} {host.address:<15} ip netns exec {topology.namespace(host)} ...")
        print(f"  settings of the machine itself (diemcau commands reach the cluster): {cluster.write_env_file()}")
        print(f"  logs: {cluster.logs}   Ctrl-C stops everything")
        stop.wait()
    finally:
        cluster.stop()
        print("devcluster: stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
