"""``Cluster``: the one object that owns a running cluster — its network, the data host's servers, and every
process started on a host — and takes all of it down again."""

from __future__ import annotations

import os
import secrets as tokens
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from diemcau.adapters.storage import stores_of
from diemcau.apps.hub.config import api_token_path
from diemcau.apps.setup_steps import ensure_api_token
from diemcau.devcluster import netns, services
from diemcau.devcluster.topology import API_PORT, Host, Secrets, Topology, api_environ, environ
from diemcau.settings import load_settings

STOP_SECONDS = 15.0
API_MODULE = "diemcau.apps.api"  # what each API host runs, as the hub runs its managed service
HUB_START_SECONDS = 120.0


def free_subnet() -> int:
    """A 10.231.x.0/24 that no other cluster on this machine uses."""
    taken = netns.existing_subnets()
    for subnet in [*range(os.getpid() % 200 + 20, 255), *range(1, 255)]:
        if subnet not in taken:
            return subnet
    raise netns.NetworkError("every 10.231.x.0/24 is taken")


@dataclass
class Cluster:
    """A cluster whose files live under ``root`` (``shared/``: the shared volume; ``hosts/<name>/``: each host's
    own folder; ``logs/``). Start it with ``start()`` or ``with``; ``stop()`` leaves nothing running."""

    topology: Topology
    root: Path
    durable: bool = False
    settings: dict[str, str] = field(default_factory=dict)
    """Extra ``DIEMCAU_*`` settings for every host (a test's short lease, say)."""
    python: str = sys.executable
    api_module: str = API_MODULE
    """The module each API host runs (``python -m``); the tests name a launcher of the same app with a stand-in
    for the hub's token check."""
    secrets: Secrets = field(default_factory=lambda: Secrets(tokens.token_hex(12), tokens.token_hex(12)))
    processes: dict[str, list[subprocess.Popen]] = field(default_factory=dict)
    _server_dirs: list[Path] = field(default_factory=list)

    @classmethod
    def plan(
        cls,
        root: Path,
        worker_hosts: int = 2,
        durable: bool = False,
        settings: dict[str, str] | None = None,
        api_hosts: int = 2,
        hub: bool = False,
        api_module: str = API_MODULE,
    ) -> Cluster:
        """A cluster with a fresh tag and a free subnet."""
        topology = Topology(f"dc{tokens.token_hex(3)}", free_subnet(), worker_hosts, api_hosts, hub)
        return cls(topology, root, durable, settings or {}, api_module=api_module)

    @property
    def shared(self) -> Path:
        return self.root / "shared"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def environ(self, host: Host | None = None) -> dict[str, str]:
        """The settings of ``host``'s processes (``None``: the machine itself, outside the cluster: the tests)."""
        host = host or Host("outside", "outside", self.topology.gateway)
        return {**environ(self.topology, host, self.secrets, self.shared, self.root / "hosts"), **self.settings}

    def write_env_file(self) -> Path:
        """The machine's own settings for the cluster, as ``export`` lines a shell can source (mode 0600: it holds
        the passwords)."""
        path = self.root / "outside.env"
        path.write_text("".join(f"export {name}='{value}'\n" for name, value in sorted(self.environ().items())))
        path.chmod(0o600)
        return path

    @property
    def nginx_folder(self) -> Path:
        """nginx's files on the data host: its rendered site file, and an access log naming each request's API
        host (``$upstream_addr``)."""
        return self.root / "hosts" / self.topology.data.name / "nginx"

    def start(self, hub: bool = True) -> Cluster:
        """Network, PostgreSQL and Redis on the data host, the schema and the external API service's token, nginx
        on the data host, one API replica per API host, one worker per worker host, then the hub (if the topology
        has its host and ``hub``; else its host is there, idle, for ``start_hub`` later)."""
        for folder in (self.shared, self.logs, *(self.root / "hosts" / h.name / "tmp" for h in self.topology.hosts)):
            folder.mkdir(parents=True, exist_ok=True)
        (self.root / "hosts" / "outside" / "tmp").mkdir(parents=True, exist_ok=True)
        netns.create(self.topology)
        try:
            data, namespace = self.topology.data, self.topology.namespace(self.topology.data)
            for start, name in ((services.start_postgres, "postgres"), (services.start_redis, "redis")):
                server, folder = start(namespace, data, self.secrets, self.logs / f"data-{name}.log", self.durable)
                self.processes.setdefault(data.name, []).append(server)
                self._server_dirs.append(folder)
            self.run_outside("init")  # the data directory on the shared volume, and the schema
            outside = load_settings(self.environ())
            ensure_api_token(outside)  # as `diemcau hub` makes it: the replicas need it before the hub starts
            # nginx serves the media store's files itself: the shared volume's folder, a local path on every host
            front = self.topology.front(stores_of(outside).media.root)
            nginx = services.start_nginx(namespace, front, self.nginx_folder, self.logs / "data-nginx.log")
            self.processes[data.name].append(nginx)
            for host in self.topology.apis:
                self.start_api(host, wait=False)
            for host in self.topology.apis:
                self.wait_for_api(host)
            for host in self.topology.workers:
                self.start_worker(host)
            if self.topology.hub and hub:
                self.start_hub()
        except BaseException:
            self.stop()
            raise
        return self

    def spawn(self, host: Host, argv: list[str], log_name: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """Run ``argv`` on ``host`` with its settings (and ``env``), output to ``logs/<host>-<log_name>.log``."""
        env = {**os.environ, **self.environ(host), **(env or {}), "PYTHONUNBUFFERED": "1"}
        log = (self.logs / f"{host.name}-{log_name}.log").open("ab")
        process = subprocess.Popen(
            netns.command(self.topology.namespace(host), *argv), env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.setdefault(host.name, []).append(process)
        return process

    def start_worker(self, host: Host) -> subprocess.Popen:
        """``diemcau worker`` on ``host``."""
        return self.spawn(host, [self.python, "-m", "diemcau.apps.cli", "worker"], "worker")

    def start_api(self, host: Host, wait: bool = True) -> subprocess.Popen:
        """The API replica of API host ``host`` (``python -m diemcau.apps.api`` with the environment the hub gives
        a managed service, the external service's token among it); with ``wait``, ready once it listens."""
        token = api_token_path(load_settings(self.environ(host))).read_text("utf-8").strip()
        env = api_environ(self.topology, host, token)
        process = self.spawn(host, [self.python, "-m", self.api_module], "api", env)
        if wait:
            self.wait_for_api(host)
        return process

    def wait_for_api(self, host: Host) -> None:
        """Until API host ``host``'s replica accepts connections (it migrates nothing: ``init`` did)."""
        log = self.logs / f"{host.name}-api.log"
        process = self.processes[host.name][-1]
        services.wait(lambda: process.poll() is None and services.answers(host.address, API_PORT), host.name, log)

    def start_hub(self) -> subprocess.Popen:
        """``diemcau hub`` on the hub host: its proxy on the host's address, the API as an external service behind
        nginx (``hub.api_url``), no worker (``hub.run_worker``); ready once the portal answers through it."""
        host = self.topology.hub_host
        process = self.spawn(host, [self.python, "-m", "diemcau.apps.cli", "hub"], "hub")
        health = f"{self.topology.hub_url}services/diemcau/health"

        def ready() -> bool:
            try:
                return process.poll() is None and httpx.get(health, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        services.wait(ready, "the hub", self.logs / "hub-hub.log", HUB_START_SECONDS)
        return process

    def run_outside(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``diemcau ARGS`` run on the machine itself (reaching the cluster over the bridge), checked."""
        env = {**os.environ, **self.environ()}
        result = subprocess.run(
            [self.python, "-m", "diemcau.apps.cli", *args], env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise services.ServiceError(f"diemcau {' '.join(args)}: {result.stdout}{result.stderr}")
        return result

    def kill_host(self, name: str) -> None:
        """Every process of host ``name`` killed at once (``kill -9``: a machine losing power)."""
        netns.kill_all(self.topology.namespace(self.topology.host(name)))
        for process in self.processes.pop(name, []):
            process.wait()

    def stop(self) -> None:
        """The hub, API replicas and workers first, all at once (SIGINT, as the hub stops services), then the data
        host's servers, then the network; nothing is left running, whatever state the cluster is in."""
        others = [host for host in self.topology.hosts if host.role != "data"]
        for hosts in (others, [self.topology.data]):
            for host in hosts:
                for process in self.processes.get(host.name, []):
                    if process.poll() is None:
                        process.send_signal(signal.SIGINT)
            deadline = time.monotonic() + STOP_SECONDS
            for host in hosts:
                for process in self.processes.pop(host.name, []):
                    try:
                        process.wait(max(0.0, deadline - time.monotonic()))
                    except subprocess.TimeoutExpired:
                        pass
                netns.kill_all(self.topology.namespace(host))
        netns.destroy(self.topology)
        for folder in self._server_dirs:
            shutil.rmtree(folder, ignore_errors=True)
        self._server_dirs.clear()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
