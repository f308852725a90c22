"""``Cluster``: the one object that owns a running cluster — its network, the data host's servers, and every
process started on a host — and takes all of it down again."""

from __future__ import annotations

import os
import secrets as tokens
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from diemcau.devcluster import netns, services
from diemcau.devcluster.topology import Host, Secrets, Topology, environ

STOP_SECONDS = 15.0


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
    secrets: Secrets = field(default_factory=lambda: Secrets(tokens.token_hex(12), tokens.token_hex(12)))
    processes: dict[str, list[subprocess.Popen]] = field(default_factory=dict)
    _server_dirs: list[Path] = field(default_factory=list)

    @classmethod
    def plan(
        cls, root: Path, worker_hosts: int = 2, durable: bool = False, settings: dict[str, str] | None = None
    ) -> Cluster:
        """A cluster with a fresh tag and a free subnet."""
        return cls(Topology(f"dc{tokens.token_hex(3)}", free_subnet(), worker_hosts), root, durable, settings or {})

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

    def start(self) -> Cluster:
        """Network, PostgreSQL and Redis on the data host, the schema, then one worker per worker host."""
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
            for host in self.topology.workers:
                self.start_worker(host)
        except BaseException:
            self.stop()
            raise
        return self

    def spawn(self, host: Host, argv: list[str], log_name: str) -> subprocess.Popen:
        """Run ``argv`` on ``host`` with its settings, output to ``logs/<host>-<log_name>.log``."""
        env = {**os.environ, **self.environ(host), "PYTHONUNBUFFERED": "1"}
        log = (self.logs / f"{host.name}-{log_name}.log").open("ab")
        process = subprocess.Popen(
            netns.command(self.topology.namespace(host), *argv), env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.setdefault(host.name, []).append(process)
        return process

    def start_worker(self, host: Host) -> subprocess.Popen:
        """``diemcau worker`` on ``host``."""
        return self.spawn(host, [self.python, "-m", "diemcau.apps.cli", "worker"], "worker")

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
        """Workers first (SIGINT, as the hub stops services), then the servers, then the network; nothing is left
        running, whatever state the cluster is in."""
        order = [h for h in self.topology.hosts if h.role != "data"] + [self.topology.data]
        for host in order:
            for process in self.processes.get(host.name, []):
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
            for process in self.processes.pop(host.name, []):
                try:
                    process.wait(STOP_SECONDS)
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
