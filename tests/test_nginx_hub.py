"""A real JupyterHub whose API service is external (``hub.api_url``): the shipped nginx in front of two API
replicas, the hub's proxy behind nginx. The hub starts no API; a member logs in through nginx, the login
begun on one replica completes on the other, and every request after it is answered by either.

The replicas are the real app with the real ``HubIdentity`` (Hub OAuth against this hub, with the token
``diemcau hub`` makes), served in this process on random ports. nginx is required under ``make test``.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from diemcau.adapters.db.engine import make_engine, make_sessionmaker
from diemcau.adapters.nginx_config import NginxFront
from diemcau.apps.api.app import create_app
from diemcau.apps.api.plumbing.identity import HubIdentity
from diemcau.apps.hub.config import api_token_path
from diemcau.demo.seed import DEMO_PASSWORD, seed_demo
from diemcau.settings import Settings
from tests.hubserver import HubProcess, free_port, start_hub
from tests.nginx_front import Replica, require_nginx, running_nginx

PREFIX = "/services/diemcau"
pytestmark = pytest.mark.hub


class Front:
    """What runs beside the hub: two replicas and nginx, on ports chosen before the hub starts."""

    def __init__(self) -> None:
        self.ports = {"PORT": free_port(), "HUB_PORT": free_port(), "API_PORT": free_port()}
        self.nginx_port = free_port()
        self.replicas: list[Replica] = []

    @contextmanager
    def run(self, settings: Settings) -> Iterator[None]:
        """Start the replicas (with the external service's token) and nginx; stop them afterwards."""
        hub = dict(
            api_token=api_token_path(settings).read_text().strip(),
            api_url=f"http://127.0.0.1:{self.ports['HUB_PORT']}/hub/api",
            oauth_client_id="service-diemcau",
            base_url=f"{PREFIX}/",
            hub_prefix="/hub/",
            oauth_redirect_uri=f"{PREFIX}/oauth_callback",
            access_scopes={"access:services!service=diemcau"},
        )
        with ExitStack() as stack:
            for _ in range(2):
                factory = make_sessionmaker(make_engine(settings.database_url))
                replica = Replica(create_app(settings, HubIdentity(**hub), session_factory=factory)).start()
                stack.callback(replica.stop)
                self.replicas.append(replica)
            front = NginxFront(
                (f"127.0.0.1:{self.nginx_port}",),
                tuple(replica.address for replica in self.replicas),
                str(settings.media_dir),
                f"127.0.0.1:{self.ports['PORT']}",
            )
            stack.enter_context(running_nginx(front, settings.home / "nginx"))
            yield


@pytest.fixture(scope="module")
def front() -> Iterator[tuple[Front, HubProcess]]:
    require_nginx()
    front = Front()
    api_url = f"http://127.0.0.1:{front.nginx_port}"
    for hub in start_hub(seed_demo, ports=front.ports, beside=front.run, DIEMCAU_HUB__API_URL=api_url):
        yield front, hub


def test_a_member_logs_in_through_nginx_and_any_replica_serves_them(front: tuple[Front, HubProcess]) -> None:
    """Does the hub start no API of its own, does a member's login sent to the hub by one replica complete on
    the other, and do both then answer the member through nginx (each caller's requests on one replica)?"""
    setup, _ = front
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", setup.ports["API_PORT"])) != 0  # no managed API service
    url = f"http://127.0.0.1:{setup.nginx_port}/"
    with httpx.Client(timeout=30) as client:
        page = client.get(f"{url}hub/login")
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
        form = {"username": "42000002", "password": DEMO_PASSWORD, "_xsrf": xsrf.group(1) if xsrf else ""}
        assert client.post(f"{url}hub/login", data=form).status_code == 302
        out = client.get(f"{url}services/diemcau/", headers={"Accept": "text/html", "X-Test-Tag": "out"})
        sender = next(i for i, r in enumerate(setup.replicas) for s in r.log.seen if s.tag == "out")
        authorized = client.get(httpx.URL(url).join(out.headers["location"]))
        callback = httpx.URL(authorized.headers["location"])
        assert callback.path == f"{PREFIX}/oauth_callback"
        other = setup.replicas[1 - sender]  # the callback reaches the replica that did not send the member out
        back = client.get(f"http://{other.address}{callback.raw_path.decode()}")
        assert back.status_code == 302 and back.headers["location"] == f"{PREFIX}/"
        portal = client.get(f"{url}services/diemcau/", headers={"Accept": "text/html"})
        assert portal.status_code == 200
        served = []
        for n in range(64):  # the member's requests stay on one replica; a throwaway cookie moves them
            client.cookies.set("steer", str(n // 2), domain="127.0.0.1")
            me = client.get(f"{url}services/diemcau/api/me", headers={"X-Test-Tag": f"me-{n}"})
            assert me.status_code == 200 and me.json()["username"] == "42000002"
            served.append({i for i, r in enumerate(setup.replicas) for s in r.log.seen if s.tag == f"me-{n}"})
            if n % 2 and len(set().union(*served)) == 2:
                break
    assert all(served[n] == served[n + 1] for n in range(0, len(served), 2)), served  # same cookies, same replica
    assert set().union(*served) == {0, 1}, served  # and both replicas answer the member
