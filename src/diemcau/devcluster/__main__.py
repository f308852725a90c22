"""``python -m diemcau.devcluster`` (``make cluster``): start the cluster (data host with PostgreSQL, Redis and
nginx; API hosts; worker hosts; the hub and its proxy on a host of their own), load the demo province, say where
everything is, and run until Ctrl-C, then take it all down (nothing is left running, no namespace or link is left
behind)."""

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
    parser.add_argument("--api-hosts", type=int, default=2, help="API hosts behind nginx (default 2)")
    parser.add_argument("--no-hub", dest="hub", action="store_false", help="no hub host (nginx's / answers 502)")
    parser.add_argument("--no-demo", dest="demo", action="store_false", help="do not load the demo province")
    options = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("devcluster: network namespaces need root (run as root or with sudo)", file=sys.stderr)
        return 1
    cluster = Cluster.plan(
        options.root.resolve(), options.worker_hosts, durable=True, api_hosts=options.api_hosts, hub=options.hub
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        cluster.start()
        if options.demo:  # the demo lecture is published through the queue: a worker host ingests it
            print(cluster.run_outside("init", "--demo").stdout)
    except (NetworkError, ServiceError) as error:
        cluster.stop()
        print(f"devcluster: {error}", file=sys.stderr)
        return 1
    try:
        topology = cluster.topology
        print(f"devcluster {topology.tag} on 10.231.{topology.subnet}.0/24; files in {cluster.root}")
        for host in topology.hosts:
            print(f"  {host.name:<8} {host.address:<15} ip netns exec {topology.namespace(host)} ...")
        print(f"  members (the portal, media): {topology.nginx_url}/   nginx on the data host, API hosts behind it")
        if topology.hub:
            print(f"  the hub itself (its proxy):  {topology.hub_url}   staff and members log in either way")
        print(f"  settings of the machine itself (diemcau commands reach the cluster): {cluster.write_env_file()}")
        print(f"  logs: {cluster.logs}   Ctrl-C stops everything")
        stop.wait()
    finally:
        cluster.stop()
        print("devcluster: stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
