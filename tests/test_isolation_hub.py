"""Staff servers are isolated (docs/security/isolation.md), tried as an attacker would in the real hub.

A secretary sends code to a kernel of their own server, both one they start through the Jupyter kernels API
and the one behind a Voila dashboard they opened, and the code tries to read what the platform keeps: the app
database, the hub's database and cookie secret, the settings file, the data directory, another staff member's
home, the API service's environment (``/proc/<pid>/environ``); to change a dashboard every staff member runs;
and to use the trainer's studio straight on its loopback port, where it would act with the trainer's token.
Each must be refused; the code runs as the secretary's own system user (neither root nor the hub's user) and
sees no ``DIEMCAU_*`` variable but the API's URL. The secretary's server has no terminals; an admin's has.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websocket

from diemcau.core.system_user import system_username
from diemcau.demo.seed import DEMO_PASSWORD
from diemcau.i18n import t
from tests.hubserver import REPO, HubProcess, running_server

pytestmark = pytest.mark.hub
SECRETARY = "42000001"  # Chi bộ thôn Đông
TRAINER = "42000022"  # the other staff member whose home the secretary tries
ADMIN = "42000023"
TRAINER_NOTE = "ghi-chu-rieng.txt"

ATTACK = r"""
import json, os
found = {}
def attempt(name, action):
    try:
        found[name] = "READ " + repr(action())[:60]
    except OSError as exc:
        found[name] = "DENIED " + type(exc).__name__
for name, path in TARGETS["files"].items():
    attempt(name, lambda path=path: open(path, "rb").read(64))
for name, path in TARGETS["folders"].items():
    attempt(name, lambda path=path: os.listdir(path))
for name, path in TARGETS["writes"].items():
    attempt(name, lambda path=path: open(path, "ab").close())
def studio_session(port):  # the trainer's Streamlit, straight on its loopback port: what does a session show?
    import time, websocket
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    url = "ws://127.0.0.1:%d%s_stcore/stream" % (port, TARGETS["studio_base"])
    connection = websocket.create_connection(url, subprotocols=["streamlit"], timeout=60)
    rerun = BackMsg()
    rerun.rerun_script.query_string = ""
    connection.send_binary(rerun.SerializeToString())
    blob, deadline = b"", time.time() + 90
    while time.time() < deadline:
        raw = connection.recv()
        blob += raw
        message = ForwardMsg()
        message.ParseFromString(raw)
        if message.WhichOneof("type") == "script_finished":
            break
    connection.close()
    if TARGETS["trainer_card"].encode() in blob:
        return "READ as the trainer"
    return "DENIED refused" if TARGETS["studio_refusal"].encode() in blob else "UNCLEAR " + repr(blob[-200:])
for name, port in TARGETS["sockets"].items():
    found[name] = studio_session(port)
with open(os.path.join(os.environ["HOME"], "mine.txt"), "w") as own:  # the kernel's own home works
    own.write("ok")
found["own_home"] = open(os.path.join(os.environ["HOME"], "mine.txt")).read()
found["uid"], found["euid"], found["gid"] = os.getuid(), os.geteuid(), os.getgid()
found["env"] = sorted(name for name in os.environ if name.startswith("DIEMCAU_"))
print("RESULT " + json.dumps(found))
"""


def api_pids(hub: HubProcess) -> list[int]:
    """The API service's processes: the hub's children running ``diemcau.apps.api``."""
    return [pid for pid in _pids() if b"diemcau.apps.api" in _cmdline(pid) and _ancestors(pid)[:1] == [hub.process.pid]]


def studio_listeners(hub: HubProcess) -> dict[str, int]:
    """The loopback ports the trainer's Streamlit (started by their server, under this hub) listens on."""
    pids = [
        pid
        for pid in _pids()
        if f"--server.baseUrlPath=/user/{TRAINER}/studio".encode() in _cmdline(pid)
        and hub.process.pid in _ancestors(pid)
    ]
    assert pids, "the trainer's studio is not running"
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd) if fd.is_symlink() else ""
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = {}
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # listening
                port = int(fields[1].rsplit(":", 1)[1], 16)
                ports[f"other_studio_{port}"] = port
    return ports


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _ancestors(pid: int) -> list[int]:
    chain = []
    while pid > 1:
        try:
            pid = _status_field(pid, "PPid")
        except (OSError, AttributeError):
            break
        chain.append(pid)
    return chain


def _status_field(pid: int, field: str) -> int:
    """The first number of a field of ``/proc/<pid>/status`` (``PPid``, ``Uid``)."""
    found = re.search(rf"^{field}:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(found.group(1))  # type: ignore[union-attr]


def process_uid(pid: int) -> int:
    """The real uid of a process."""
    return _status_field(pid, "Uid")


def home_of(hub: HubProcess, username: str) -> Path:
    return hub.settings.hub.homes_dir / system_username(username, hub.settings.hub.system_user_prefix)


def targets(hub: HubProcess) -> dict:
    """Everything the attack tries, by name."""
    settings = hub.settings
    files = {
        "app_database": settings.home / "diemcau.sqlite",
        "hub_database": settings.hub_dir / "jupyterhub.sqlite",
        "cookie_secret": settings.hub_dir / "jupyterhub_cookie_secret",
        "settings_file": settings.home / "diemcau.toml",
        "other_home_file": home_of(hub, TRAINER) / TRAINER_NOTE,
        **{f"api_environ_{pid}": Path(f"/proc/{pid}/environ") for pid in api_pids(hub)},
    }
    folders = {"data_directory": settings.home, "other_home": home_of(hub, TRAINER)}
    writes = {"dashboard_source": REPO / "notebooks" / "cell.ipynb"}
    found: dict = {
        kind: {name: str(path) for name, path in paths.items()}
        for kind, paths in (("files", files), ("folders", folders), ("writes", writes))
    }
    found["sockets"] = studio_listeners(hub)
    found["studio_base"], found["trainer_card"] = f"/user/{TRAINER}/studio/", TRAINER
    found["studio_refusal"] = t("studio.open_through_server")
    return found


def run_code(hub: HubProcess, user: str, token: str, kernel_id: str, code: str) -> str:
    """Execute ``code`` in the kernel through the server's websocket, as a browser would; returns its stdout."""
    url = f"{hub.url.replace('http://', 'ws://')}user/{user}/api/kernels/{kernel_id}/channels"
    connection = websocket.create_connection(url, header=[f"Authorization: token {token}"], timeout=60)
    msg_id = uuid.uuid4().hex
    header = {
        "msg_id": msg_id,
        "session": uuid.uuid4().hex,
        "username": user,
        "msg_type": "execute_request",
        "version": "5.3",
    }
    content = {
        "code": code,
        "silent": False,
        "store_history": False,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": True,
    }
    connection.send(
        json.dumps(
            {
                "header": header,
                "parent_header": {},
                "metadata": {},
                "content": content,
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    out = []
    try:
        while True:
            message = json.loads(connection.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "stream":
                out.append(message["content"]["text"])
            elif kind == "error":
                out.append("\n".join(message["content"]["traceback"]))
            elif kind == "status" and message["content"]["execution_state"] == "idle":
                return "".join(out)
    finally:
        connection.close()


def attack(hub: HubProcess, user: str, token: str, kernel_id: str) -> dict:
    """Run :data:`ATTACK` in the kernel and return what it found."""
    output = run_code(hub, user, token, kernel_id, f"TARGETS = {targets(hub)!r}\n{ATTACK}")
    found = re.search(r"^RESULT (.*)$", output, re.M)
    assert found, output
    return json.loads(found.group(1))


def assert_contained(hub: HubProcess, found: dict) -> None:
    """Was every target refused, while the code really ran, as an unprivileged user of its own?"""
    aimed = targets(hub)
    expected = {name for kind in ("files", "folders", "writes", "sockets") for name in aimed[kind]}
    assert any(name.startswith("api_environ_") for name in expected), "the API's process was not found"
    assert aimed["sockets"], "the trainer's studio listens nowhere"
    assert expected <= set(found), found
    leaked = {name: found[name] for name in expected if not found[name].startswith("DENIED")}
    assert not leaked, leaked
    assert found["own_home"] == "ok"
    assert found["uid"] == found["euid"] and found["uid"] not in (0, process_uid(hub.process.pid))
    assert found["gid"] != 0
    assert found["env"] == ["DIEMCAU_API_URL"]


@pytest.fixture(scope="module")
def secretary(hub: HubProcess) -> Iterator[str]:
    """The secretary's running server (its token), beside the trainer's, whose studio is open and whose home
    holds a private note."""
    with running_server(hub, TRAINER, DEMO_PASSWORD) as trainer_token:
        note = home_of(hub, TRAINER) / TRAINER_NOTE
        note.parent.mkdir(parents=True, exist_ok=True)  # made by the spawn (kept for a spawner without homes)
        note.write_text("số điện thoại riêng\n", encoding="utf-8")
        owner = note.parent.stat()
        os.chown(note, owner.st_uid, owner.st_gid)
        studio = httpx.get(
            f"{hub.url}user/{TRAINER}/studio/_stcore/health",
            headers={"Authorization": f"token {trainer_token}"},
            timeout=120,
        )
        assert studio.status_code == 200, studio.text
        with running_server(hub, SECRETARY, DEMO_PASSWORD) as token:
            yield token


def test_code_in_a_secretarys_kernel_cannot_read_the_platforms_data(hub: HubProcess, secretary: str) -> None:
    """Does code sent to a kernel the secretary starts through the kernels API fail to read the databases, the
    cookie secret, the settings, the data directory, the trainer's home and the API's environment, and fail to
    change a dashboard, running as the secretary's own system user with no DIEMCAU_* secret in sight?"""
    headers = {"Authorization": f"token {secretary}"}
    kernel = httpx.post(f"{hub.url}user/{SECRETARY}/api/kernels", headers=headers, json={}, timeout=60)
    assert kernel.status_code == 201, kernel.text
    found = attack(hub, SECRETARY, secretary, kernel.json()["id"])
    assert_contained(hub, found)


def test_code_behind_a_voila_page_cannot_read_the_platforms_data(hub: HubProcess, secretary: str) -> None:
    """Does code sent to the kernel behind the secretary's cell dashboard (Voila) fail the same way?"""
    headers = {"Authorization": f"token {secretary}"}
    page = httpx.get(f"{hub.url}user/{SECRETARY}/voila/render/cell.ipynb", headers=headers, timeout=300)
    assert page.status_code == 200, page.text[-2000:]
    kernel_id = re.search(r'"kernelId":\s*"([0-9a-f-]+)"', page.text)
    assert kernel_id, page.text[-3000:]
    found = attack(hub, SECRETARY, secretary, kernel_id.group(1))
    assert_contained(hub, found)


def test_a_secretary_has_no_terminal_and_an_admin_has(hub: HubProcess, secretary: str) -> None:
    """Is opening or listing a terminal refused on the secretary's server, while the admin's server opens one?"""
    headers = {"Authorization": f"token {secretary}"}
    assert httpx.post(f"{hub.url}user/{SECRETARY}/api/terminals", headers=headers, timeout=30).status_code == 404
    assert httpx.get(f"{hub.url}user/{SECRETARY}/api/terminals", headers=headers, timeout=30).status_code == 404
    with running_server(hub, ADMIN, DEMO_PASSWORD) as token:
        opened = httpx.post(
            f"{hub.url}user/{ADMIN}/api/terminals", headers={"Authorization": f"token {token}"}, timeout=30
        )
        assert opened.status_code == 200, opened.text
