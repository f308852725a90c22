"""The cluster's shape: its hosts, their addresses and roles, and the settings each host's processes run with.

Pure: no I/O. Addresses are ``10.231.<subnet>.0/24``; the bridge in the machine's own namespace takes ``.1`` (it is
"outside": a person's browser, the tests), the data host ``.10``, API hosts ``.21``…, worker hosts ``.31``….
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

POSTGRES_PORT = 5432
REDIS_PORT = 6379
DATABASE = "diemcau"
DATABASE_ROLE = "diemcau"


@dataclass(frozen=True)
class Host:
    """One machine of the cluster."""

    name: str  # "data", "worker1", ...
    role: str  # "data" | "api" | "worker"
    address: str


@dataclass(frozen=True)
class Secrets:
    """The cluster's passwords (made fresh for each cluster)."""

    postgres: str
    redis: str


@dataclass(frozen=True)
class Topology:
    """Hosts and names of one cluster. ``tag`` (at most 8 characters) starts every namespace and link name, so two
    clusters (two test processes) can run side by side on one machine, each on its own ``subnet``."""

    tag: str
    subnet: int
    worker_hosts: int = 2

    def __post_init__(self) -> None:
        if not (1 <= len(self.tag) <= 8 and self.tag.isalnum() and self.tag.islower()):
            raise ValueError(f"a cluster tag is 1-8 lowercase letters and digits: {self.tag!r}")
        if not 0 <= self.subnet <= 255:
            raise ValueError(f"subnet out of range: {self.subnet}")
        if not 1 <= self.worker_hosts <= 9:
            raise ValueError(f"1 to 9 worker hosts: {self.worker_hosts}")

    def _address(self, last: int) -> str:
        return f"10.231.{self.subnet}.{last}"

    @property
    def gateway(self) -> str:
        """The machine's own address on the cluster's network (the bridge)."""
        return self._address(1)

    @property
    def bridge(self) -> str:
        return f"{self.tag}br"

    @property
    def data(self) -> Host:
        return Host("data", "data", self._address(10))

    @property
    def workers(self) -> tuple[Host, ...]:
        return tuple(Host(f"worker{n}", "worker", self._address(30 + n)) for n in range(1, self.worker_hosts + 1))

    @property
    def hosts(self) -> tuple[Host, ...]:
        return (self.data, *self.workers)

    def host(self, name: str) -> Host:
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)

    def namespace(self, host: Host) -> str:
        return f"{self.tag}-{host.name}"

    def links(self, host: Host) -> tuple[str, str]:
        """The veth pair of ``host``: the end on the bridge, and the end moved into its namespace (as eth0)."""
        index = self.hosts.index(host)
        return f"{self.tag}v{index}", f"{self.tag}p{index}"

    def database_url(self, secrets: Secrets) -> str:
        return f"postgresql+psycopg://{DATABASE_ROLE}:{secrets.postgres}@{self.data.address}:{POSTGRES_PORT}/{DATABASE}"

    def redis_url(self, secrets: Secrets) -> str:
        return f"redis://:{secrets.redis}@{self.data.address}:{REDIS_PORT}/0"


def environ(topology: Topology, host: Host, secrets: Secrets, shared: Path, local: Path) -> dict[str, str]:
    """The ``DIEMCAU_*`` settings of ``host``'s processes: the data directory and content folders on the shared
    volume (``shared``), PostgreSQL and Redis on the data host, its own host name, and its own temporary folder
    under ``local``."""
    return {
        "DIEMCAU_HOME": str(shared / "var"),
        "DIEMCAU_CONTENT__COURSES_DIR": str(shared / "courses"),
        "DIEMCAU_CONTENT__TRANSCRIPTS_DIR": str(shared / "transcripts"),
        "DIEMCAU_DATABASE__URL": topology.database_url(secrets),
        "DIEMCAU_JOBS__BACKEND": "redis",
        "DIEMCAU_JOBS__REDIS_URL": topology.redis_url(secrets),
        "DIEMCAU_JOBS__HOST_NAME": host.name,
        "TMPDIR": str(local / host.name / "tmp"),
    }
