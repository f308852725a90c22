"""The cluster's shape: its hosts, their addresses and roles, and the settings each host's processes run with.

Pure: no I/O. Addresses are ``10.231.<subnet>.0/24``; the bridge in the machine's own namespace takes ``.1`` (it is
"outside": a person's browser, the tests), the data host ``.10``, API hosts ``.21``…, worker hosts ``.31``…, the
hub host ``.40``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from diemcau.adapters.nginx_config import NginxFront

POSTGRES_PORT = 5432
REDIS_PORT = 6379
NGINX_PORT = 8080  # on the data host: where members connect, and the hub's service URL (hub.api_url)
API_PORT = 8090  # each API host's replica
HUB_PORT = 8000  # the hub host's proxy (hub.port), nginx's "everything else"
HUB_API_PORT = 8081  # the hub's own API (hub.hub_port), where the replicas check tokens
SERVICE_PREFIX = "/services/diemcau/"
DATABASE = "diemcau"
DATABASE_ROLE = "diemcau"


@dataclass(frozen=True)
class Host:
    """One machine of the cluster."""

    name: str  # "data", "api1", "worker1", "hub", ...
    role: str  # "data" | "api" | "worker" | "hub"
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
    api_hosts: int = 2
    hub: bool = False  # a host of its own for the hub and its proxy

    def __post_init__(self) -> None:
        if not (1 <= len(self.tag) <= 8 and self.tag.isalnum() and self.tag.islower()):
            raise ValueError(f"a cluster tag is 1-8 lowercase letters and digits: {self.tag!r}")
        if not 0 <= self.subnet <= 255:
            raise ValueError(f"subnet out of range: {self.subnet}")
        if not 1 <= self.worker_hosts <= 9:
            raise ValueError(f"1 to 9 worker hosts: {self.worker_hosts}")
        if not 1 <= self.api_hosts <= 9:
            raise ValueError(f"1 to 9 API hosts: {self.api_hosts}")

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
    def apis(self) -> tuple[Host, ...]:
        return tuple(Host(f"api{n}", "api", self._address(20 + n)) for n in range(1, self.api_hosts + 1))

    @property
    def hub_host(self) -> Host:
        """The hub and its proxy's host (``.40``); it is started only when ``hub`` is set."""
        return Host("hub", "hub", self._address(40))

    @property
    def hosts(self) -> tuple[Host, ...]:
        return (self.data, *self.apis, *self.workers, *((self.hub_host,) if self.hub else ()))

    @property
    def nginx_url(self) -> str:
        """nginx on the data host: members' address, and the hub's service URL (``hub.api_url``)."""
        return f"http://{self.data.address}:{NGINX_PORT}"

    @property
    def hub_url(self) -> str:
        """The hub's proxy on the hub host (nginx sends it everything outside the API's prefix)."""
        return f"http://{self.hub_host.address}:{HUB_PORT}/"

    def front(self, media_root: Path) -> NginxFront:
        """The data host's nginx: listening on its address, the API hosts its upstream, media from the shared
        volume, the rest to the hub host's proxy (a 502 when the cluster runs without its hub)."""
        return NginxFront(
            listen=(f"{self.data.address}:{NGINX_PORT}",),
            api=tuple(f"{host.address}:{API_PORT}" for host in self.apis),
            media_root=str(media_root),
            hub_proxy=f"{self.hub_host.address}:{HUB_PORT}",
        )

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
    volume (``shared``), PostgreSQL and Redis on the data host, the API behind nginx (``hub.api_url``) and the
    hub's API on the hub host (``hub.hub_ip``), its own host name, and its own temporary folder under ``local``.
    The hub host's proxy listens on its address, and its hub runs no worker (the worker hosts do)."""
    hub = {"DIEMCAU_HUB__IP": host.address, "DIEMCAU_HUB__RUN_WORKER": "false"} if host.role == "hub" else {}
    return {
        **hub,
        "DIEMCAU_HUB__API_URL": topology.nginx_url,
        "DIEMCAU_HUB__HUB_IP": topology.hub_host.address,
        "DIEMCAU_HUB__PORT": str(HUB_PORT),
        "DIEMCAU_HUB__HUB_PORT": str(HUB_API_PORT),
        "DIEMCAU_HOME": str(shared / "var"),
        "DIEMCAU_CONTENT__COURSES_DIR": str(shared / "courses"),
        "DIEMCAU_CONTENT__TRANSCRIPTS_DIR": str(shared / "transcripts"),
        "DIEMCAU_DATABASE__URL": topology.database_url(secrets),
        "DIEMCAU_JOBS__BACKEND": "redis",
        "DIEMCAU_JOBS__REDIS_URL": topology.redis_url(secrets),
        "DIEMCAU_JOBS__HOST_NAME": host.name,
        "TMPDIR": str(local / host.name / "tmp"),
    }


def api_environ(topology: Topology, host: Host, api_token: str) -> dict[str, str]:
    """What an API host's replica is given besides its settings: the environment the hub gives a managed service
    (docs/deploy-nginx.md), with the external service's token, the hub's API on the hub host, and its own
    address to listen on."""
    return {
        "JUPYTERHUB_API_TOKEN": api_token,
        "JUPYTERHUB_API_URL": f"http://{topology.hub_host.address}:{HUB_API_PORT}/hub/api",
        "JUPYTERHUB_SERVICE_URL": f"http://{host.address}:{API_PORT}",
        "JUPYTERHUB_SERVICE_PREFIX": SERVICE_PREFIX,
        "JUPYTERHUB_CLIENT_ID": "service-diemcau",
        "JUPYTERHUB_OAUTH_CALLBACK_URL": f"{SERVICE_PREFIX}oauth_callback",
        "JUPYTERHUB_BASE_URL": "/",
        "JUPYTERHUB_SERVICE_NAME": "diemcau",
    }
