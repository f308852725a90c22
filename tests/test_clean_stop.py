"""Stopping leaves nothing running (docs/architecture.md, "Stopping"), tried on the real platform as `make demo`
runs it: `diemcau hub --demo-logins` with a terminal on its stdin, on random ports, with a data directory of its
own, and staff servers as system users of this test's own (a prefix no other hub uses).

A staff member's code leaves processes behind on purpose: one in a session of its own that ignores SIGTERM (as
the studio's Streamlit did with a session open). Stopping the server must end them; Ctrl-C must end the hub,
the proxy, the API and its supervisor, the worker, the culler, the staff servers, Streamlit and the kernels,
with nothing in the log about a failed stop.
"""

from __future__ import annotations

import os
import pty
import pwd
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import websocket

from diemcau.apps import setup_steps
from diemcau.demo.seed import DEMO_PASSWORD, seed_demo
from diemcau.settings import Settings, load_settings
from tests.data_dirs import data_dir_environ
from tests.data_dirs import CHEAP
from tests.hubserver import REPO, free_port, login, open_root
from tests.test_isolation_hub import run_code

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="staff servers need root (CI runs as root)")
pytestmark = [pytest.mark.hub, as_root]
SECRETARY = "42000001"
TRAINER = "42000022"
STOP_BOUND_SECONDS = 90  # liveness, not speed: the runner's own bound is 20 s for the hub plus 9 s for leftovers
# Code a staff member runs: a process in a session of its own that ignores SIGTERM and would sleep for ten minutes.
STUBBORN = (
    "import subprocess, sys\n"
    "subprocess.Popen([sys.executable, '-c', 'import signal, time; signal.signal(signal.SIGTERM, "
    "signal.SIG_IGN); time.sleep(600)'], start_new_session=True, stdin=subprocess.DEVNULL, "
    "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "print('started')\n"
)


@dataclass
class Platform:
    """`diemcau hub` running: its process (a session of its own, as a terminal's foreground job), data and log."""

    url: str
    settings: Settings
    root: Path
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def uids(self) -> set[int]:
        """The system users of this platform's staff servers (made on their first spawn)."""
        prefix = self.settings.hub.system_user_prefix
        return {entry.pw_uid for entry in pwd.getpwall() if entry.pw_name.startswith(prefix)}

    def processes(self) -> dict[int, str]:
        """Every live process of this platform, by pid: run by one of its system users, or with its data folder in
        its command line, working directory or environment."""
        uids, marker = self.uids(), str(self.root).encode()
        mine = {os.getpid(), *_ancestors(os.getpid())}
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) in mine:
                continue
            try:
                status = (entry / "status").read_text()
                if "\nState:\tZ" in status:
                    continue
                cmdline = (entry / "cmdline").read_bytes()
                uid = int(status.split("\nUid:")[1].split()[0])
                cwd = os.readlink(entry / "cwd").encode()
                environ = (entry / "environ").read_bytes()
            except (OSError, IndexError):  # gone meanwhile
                continue
            if uid in uids or marker in cmdline or marker in cwd or marker in environ:
                found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace")[:200]
        return found


def _ancestors(pid: int) -> list[int]:
    chain = []
    while pid > 1:
        stat = Path(f"/proc/{pid}/stat").read_text()
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        chain.append(pid)
    return chain


def _wait_for(condition, what: str, platform: Platform, timeout: float = 240) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert platform.process.poll() is None, platform.log()[-4000:]
        assert time.monotonic() < deadline, f"{what}:\n{platform.log()[-4000:]}"
        time.sleep(0.2)


@contextmanager
def running_platform() -> Iterator[Platform]:
    """`diemcau hub --demo-logins` on the demo province, with a terminal on its stdin; afterwards anything of it
    still running is killed and its system users are removed."""
    with open_root() as root:
        ports = {name: free_port() for name in ("PORT", "HUB_PORT", "PROXY_API_PORT", "API_PORT")}
        env = {
            **os.environ,
            **data_dir_environ(root),
            "DIEMCAU_HUB__HOMES_DIR": str(root / "homes"),
            "DIEMCAU_HUB__SYSTEM_USER_PREFIX": f"stop{secrets.token_hex(3)}-",
            **{f"DIEMCAU_HUB__{name}": str(port) for name, port in ports.items()},
        }
        settings = load_settings(env)
        setup_steps.ensure_data_dir(settings)
        seed_demo(setup_steps.ensure_database(settings), verifier=CHEAP)
        log_path = root / "hub.log"
        _, terminal = pty.openpty()
        with log_path.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "diemcau.apps.cli", "hub", "--demo-logins"],
                cwd=REPO,
                env=env,
                stdin=terminal,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        os.close(terminal)
        running = Platform(f"http://127.0.0.1:{settings.hub.port}/", settings, root, process, log_path)
        try:
            _wait_for(lambda: "is running" in running.log(), "the hub did not come up", running)
            yield running
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            for pid in running.processes():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for entry in pwd.getpwall():
                if entry.pw_name.startswith(settings.hub.system_user_prefix):
                    subprocess.run(["userdel", entry.pw_name], check=False, capture_output=True)


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with running_platform() as running:
        yield running


class StaffSession:
    """A staff member logged in through the hub's form, with an API token of their own."""

    def __init__(self, platform: Platform, username: str) -> None:
        self.platform, self.username = platform, username
        self.client = httpx.Client(timeout=120, follow_redirects=True)
        assert login(self.client, platform.url, username, DEMO_PASSWORD).status_code == 200
        made = self.client.post(
            f"{platform.url}hub/api/users/{username}/tokens",
            json={"note": "test"},
            headers={"X-XSRFToken": self.client.cookies.get("_xsrf", path="/hub/")},
        )
        assert made.status_code == 201, made.text
        self.token = made.json()["token"]
        self.headers = {"Authorization": f"token {self.token}"}

    def hub_api(self, method: str, path: str) -> httpx.Response:
        return httpx.request(method, f"{self.platform.url}hub/api{path}", headers=self.headers, timeout=120)

    def server(self) -> dict:
        return self.hub_api("GET", f"/users/{self.username}").json()["servers"].get("", {})

    def start_server(self) -> None:
        started = self.hub_api("POST", f"/users/{self.username}/server")
        assert started.status_code in (201, 202), started.text
        _wait_for(lambda: self.server().get("ready"), f"{self.username}'s server did not start", self.platform)

    def kernel(self) -> str:
        """A kernel started through the server's kernels API, as JupyterLab would."""
        made = httpx.post(
            f"{self.platform.url}user/{self.username}/api/kernels", headers=self.headers, json={}, timeout=120
        )
        assert made.status_code == 201, made.text
        return made.json()["id"]

    def run(self, kernel_id: str, code: str) -> str:
        return run_code(self.platform, self.username, self.token, kernel_id, code)  # type: ignore[arg-type]


def test_stopping_a_staff_server_ends_every_process_its_user_started(platform: Platform) -> None:
    """When a secretary's server stops (their own stop, the idle culler), are its kernel and a process their code
    started in a session of its own, ignoring SIGTERM, gone too, with the hub still running?"""
    secretary = StaffSession(platform, SECRETARY)
    secretary.start_server()
    assert secretary.run(secretary.kernel(), STUBBORN).strip() == "started"
    account = pwd.getpwnam(f"{platform.settings.hub.system_user_prefix}{SECRETARY}").pw_uid
    before = {pid for pid in platform.processes() if _uid(pid) == account}
    assert len(before) >= 3, platform.processes()  # the server, the kernel, the stubborn process
    stopped = secretary.hub_api("DELETE", f"/users/{SECRETARY}/server")
    assert stopped.status_code in (202, 204), stopped.text
    _wait_for(lambda: not secretary.server(), "the secretary's server did not stop", platform)
    left = {pid: cmd for pid, cmd in platform.processes().items() if _uid(pid) == account}
    assert not left, left
    assert platform.process.poll() is None


def _uid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/status").read_text().split("\nUid:")[1].split()[0])
    except OSError:
        return None


def open_studio_session(trainer: StaffSession) -> websocket.WebSocket:
    """A browser's studio tab: a Streamlit session through the hub, its first run finished, left open."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    base = f"{trainer.platform.url}user/{TRAINER}/studio/"
    assert httpx.get(f"{base}_stcore/health", headers=trainer.headers, timeout=120).status_code == 200
    stream = f"{base.replace('http://', 'ws://')}_stcore/stream"
    connection = websocket.create_connection(
        stream, header=[f"Authorization: token {trainer.token}"], subprotocols=["streamlit"], timeout=120
    )
    rerun = BackMsg()
    rerun.rerun_script.query_string = ""
    connection.send_binary(rerun.SerializeToString())
    while True:
        message = ForwardMsg()
        message.ParseFromString(connection.recv())
        if message.WhichOneof("type") == "script_finished":
            return connection


def trainer_at_work(platform: Platform, code: str = STUBBORN) -> websocket.WebSocket:
    """The trainer's server with the studio open in a tab (the open session, returned) and the lecture dashboard
    rendered, whose kernel ran ``code`` (:data:`STUBBORN` unless told)."""
    trainer = StaffSession(platform, TRAINER)
    trainer.start_server()
    studio = open_studio_session(trainer)
    page = httpx.get(f"{platform.url}user/{TRAINER}/voila/render/lecture.ipynb", headers=trainer.headers, timeout=300)
    assert page.status_code == 200, page.text[-2000:]
    kernel_id = re.search(r'"kernelId":\s*"([0-9a-f-]+)"', page.text)
    assert kernel_id, page.text[-3000:]
    if code:
        assert trainer.run(kernel_id.group(1), code).strip() == "started"
    return studio


def test_ctrl_c_stops_every_process_of_the_platform(platform: Platform) -> None:
    """With a trainer's server running its studio (a session open) and a Voila dashboard's kernel, whose code left
    a process ignoring SIGTERM, does Ctrl-C (SIGINT to the runner's process group, as a terminal sends it) end
    every process of the platform, free its ports, and log no failed stop, destroyed task or traceback?"""
    studio = trainer_at_work(platform)
    running = "\n".join(platform.processes().values())
    expected = (
        "jupyterhub -f",
        "proxy.js",
        "diemcau.apps.api",
        "diemcau.apps.cli worker",
        "jupyterhub_idle_culler",
        "jupyterhub-singleuser",
        "streamlit run",
        "ipykernel_launcher",
        "SIG_IGN); time.sleep(600)",
    )
    for part in expected:
        assert part in running, f"{part} is not running:\n{running}"

    os.killpg(platform.process.pid, signal.SIGINT)
    try:
        platform.process.wait(timeout=STOP_BOUND_SECONDS)
    finally:
        studio.close()
    log = platform.log()
    assert platform.process.returncode == 0, log[-4000:]
    assert not platform.processes(), platform.processes()
    for bad in ("Failed to stop", "Task was destroyed", "Traceback", "did not stop within"):
        assert bad not in log, log[log.index(bad) - 2000 :]
    settings = platform.settings
    for port in (settings.hub.port, settings.hub.hub_port, settings.hub.proxy_api_port, settings.hub.api_port):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"something still listens on {port}"
