"""A real JupyterHub with its proxy and the Điểm Cầu services, on random loopback ports, for tests.

Like JupyterHub's own ``MockHub``, this only changes defaults (ports, a temporary data directory); the hub,
the configurable-http-proxy, the roster authenticator and the API service are the real ones. A test-only
service token is added through a wrapper config file to create users' API tokens.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.passwords import SecretVerifier
from diemcau.apps import setup_steps
from diemcau.apps.hub_runner import restore_default_sigint
from diemcau.settings import Settings, load_settings
from tests.data_dirs import data_dir_environ

REPO = Path(__file__).resolve().parents[1]
TEST_SERVICE = "test-admin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class HubProcess:
    """A running hub: its public URL, its data, and helpers to act as any roster member."""

    url: str
    settings: Settings
    factory: sessionmaker[Session]
    admin_token: str
    process: subprocess.Popen
    log_path: Path
    activation_code: str = ""
    _tokens: dict[str, str] = field(default_factory=dict)

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
        """Call the hub REST API as the test service."""
        headers = {"Authorization": f"token {self.admin_token}"}
        return httpx.request(method, f"{self.url}hub/api{path}", headers=headers, timeout=30, **kwargs)

    def token_for(self, username: str) -> str:
        """An API token of ``username`` (created in the hub if needed), as a notebook would hold."""
        if username not in self._tokens:
            self.api("POST", f"/users/{username}")
            response = self.api("POST", f"/users/{username}/tokens", json={"note": "test"})
            response.raise_for_status()
            self._tokens[username] = response.json()["token"]
        return self._tokens[username]

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def login(client: httpx.Client, hub_url: str, username: str, password: str) -> httpx.Response:
    """Log in through the hub's real login form (xsrf included), following redirects to the landing page."""
    page = client.get(f"{hub_url}hub/login")
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
    assert xsrf, "login form has no _xsrf field"
    return client.post(
        f"{hub_url}hub/login",
        data={"username": username, "password": password, "_xsrf": xsrf.group(1)},
        follow_redirects=True,
    )


@contextmanager
def running_server(hub: HubProcess, username: str, password: str) -> Iterator[str]:
    """``username``'s own Jupyter server, started with their token after a login put them in the staff groups;
    yields the token and stops the server afterwards."""
    with httpx.Client() as client:
        assert login(client, hub.url, username, password).status_code == 200
    token = hub.token_for(username)
    started = httpx.post(
        f"{hub.url}hub/api/users/{username}/server", headers={"Authorization": f"token {token}"}, timeout=60
    )
    assert started.status_code in (201, 202), hub.log()[-3000:]
    try:
        deadline = time.monotonic() + 180
        while not hub.api("GET", f"/users/{username}").json()["servers"].get("", {}).get("ready"):
            assert time.monotonic() < deadline, hub.log()[-3000:]
            time.sleep(0.3)
        yield token
    finally:
        hub.api("DELETE", f"/users/{username}/server")


def _write_wrapper_config(home: Path, token: str) -> Path:
    wrapper = home / "test_jupyterhub_config.py"
    wrapper.write_text(
        f"load_subconfig({str(REPO / 'hub_config' / 'jupyterhub_config.py')!r})\n"
        f"c.JupyterHub.services.append({{'name': {TEST_SERVICE!r}, 'api_token': {token!r}}})\n"
        f"c.JupyterHub.load_roles.append({{'name': 'test-admin', 'scopes': ['admin:users', 'tokens', "
        f"'admin:groups', 'admin:servers'], 'services': [{TEST_SERVICE!r}]}})\n",
        encoding="utf-8",
    )
    return wrapper


def _wait_until_up(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"hub exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}services/diemcau/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"hub not up after {timeout}s:\n{log_path.read_text()[-4000:]}")


@contextmanager
def open_root() -> Iterator[Path]:
    """A folder any user may enter, as a checkout is (pytest's own tmp folders are root's alone, which would hide
    whether the platform locks its data directory itself): the data directory, content and staff homes go in it."""
    root = Path(tempfile.mkdtemp(prefix="diemcau-hub-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def start_hub(seed, ports: dict[str, int] | None = None, beside=None, **extra: str) -> Iterator[HubProcess]:  # type: ignore[no-untyped-def]
    """Start a hub in an :func:`open_root` after ``seed(factory, verifier=...)`` fills its database; stop it
    (SIGINT) afterwards. ``extra``: more ``DIEMCAU_*`` variables (see ``data_dir_environ``); ``ports``: some of
    its ports chosen by the caller (``PORT``, ``HUB_PORT`` ...); ``beside(settings)``: a context manager
    entered once the data directory is ready and before the hub starts, left after it stops (what runs beside
    the hub: API replicas, nginx)."""
    with open_root() as root:
        yield from _run_hub(root, seed, extra, ports or {}, beside)


def _run_hub(root: Path, seed, extra: dict[str, str], chosen: dict[str, int], beside=None) -> Iterator[HubProcess]:  # type: ignore[no-untyped-def]
    ports = {name: chosen.get(name) or free_port() for name in ("PORT", "HUB_PORT", "PROXY_API_PORT", "API_PORT")}
    environ = {
        **os.environ,
        **data_dir_environ(root, **extra),
        "DIEMCAU_HUB__HOMES_DIR": str(root / "homes"),
        **{f"DIEMCAU_HUB__{name}": str(port) for name, port in ports.items()},
        "PATH": os.pathsep.join(
            [str(REPO / "node_modules" / ".bin"), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
    }
    settings = load_settings(environ)
    setup_steps.ensure_data_dir(settings)
    factory = setup_steps.ensure_database(settings)
    activation_code = seed(factory, verifier=SecretVerifier.from_settings(settings.auth))
    setup_steps.ensure_api_token(settings)  # as `diemcau hub` does (hub.api_url set: an external API service)
    token = secrets.token_hex(16)
    config = _write_wrapper_config(settings.home, token)
    log_path = settings.home / "hub.log"
    with contextlib.ExitStack() as stack:
        if beside is not None:
            stack.enter_context(beside(settings))
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(config)],
                cwd=settings.hub_dir,
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=restore_default_sigint,
            )
        url = f"http://127.0.0.1:{ports['PORT']}/"
        try:
            _wait_until_up(url, process, log_path)
            yield HubProcess(url, settings, factory, token, process, log_path, activation_code or "")
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
