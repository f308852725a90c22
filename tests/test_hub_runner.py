"""`diemcau hub`, as `make demo` runs it: the banner once the hub answers, and Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from diemcau.apps import setup_steps
from diemcau.demo.seed import seed_demo
from diemcau.settings import load_settings
from tests.data_dirs import CHEAP
from tests.hubserver import REPO, free_port

pytestmark = pytest.mark.hub


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_stops_the_hub_its_proxy_and_services(tmp_path: Path) -> None:
    """Does `diemcau hub --demo-logins` print the URL and logins, then stop with all its children on Ctrl-C?"""
    env = {
        **os.environ,
        "DIEMCAU_HOME": str(tmp_path / "var"),
        "DIEMCAU_CONTENT__COURSES_DIR": str(tmp_path / "courses"),
        **{f"DIEMCAU_HUB__{name}": str(free_port()) for name in ("PORT", "HUB_PORT", "PROXY_API_PORT", "API_PORT")},
    }
    settings = load_settings(env)
    setup_steps.ensure_data_dir(settings)
    seed_demo(setup_steps.ensure_database(settings), verifier=CHEAP)
    log = tmp_path / "hub.log"
    with log.open("w") as out:
        # A session of its own, as a terminal's foreground job: Ctrl-C reaches the whole process group.
        process = subprocess.Popen(
            [sys.executable, "-m", "diemcau.apps.cli", "hub", "--demo-logins"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        banner = ("is running", "42000001   secretary")  # the URL's line, then the logins', written one by one
        while not all(part in log.read_text() for part in banner) and process.poll() is None:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
        text = log.read_text()
        assert f"http://127.0.0.1:{settings.hub.port}/" in text and "42000001   secretary" in text, text[-3000:]
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=25)  # the hub would wait 30 s for a service that ignored SIGINT
        assert process.returncode == 0
        deadline = time.monotonic() + 10
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _group_alive(process.pid), "a child of the hub outlived it"
        # The API service runs in a session of its own: its port must be free again.
        for port in (settings.hub.port, settings.hub.api_port):
            with socket.socket() as sock:
                assert sock.connect_ex(("127.0.0.1", port)) != 0, f"something still listens on {port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_busy_port_is_refused_with_a_way_out(tmp_path: Path) -> None:
    """Does `diemcau hub` refuse to start on a taken port, name the setting, and start nothing? (Its other ports
    are free ones of its own, so another hub on the default ports of this machine changes nothing.)"""
    from typer.testing import CliRunner

    from diemcau.apps.cli import app

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "DIEMCAU_HOME": str(tmp_path / "var"),
            "DIEMCAU_CONTENT__COURSES_DIR": str(tmp_path / "courses"),
            "DIEMCAU_HUB__PROXY_API_PORT": str(port),
        }
        env |= {f"DIEMCAU_HUB__{name}": str(free_port()) for name in ("PORT", "HUB_PORT", "API_PORT")}
        result = CliRunner().invoke(app, ["hub"], env=env)
    assert result.exit_code == 1
    assert f"hub.proxy_api_port = {port}" in result.output and "DIEMCAU_HUB__PROXY_API_PORT" in result.output
    assert "hub.port =" not in result.output and "hub.hub_port =" not in result.output  # only the taken one named
    assert "hub.api_port =" not in result.output
    assert not (tmp_path / "var" / "hub" / "jupyterhub.sqlite").exists()


FAKE_HUB = r"""
import os, signal, sys, time
from pathlib import Path
record = Path(sys.argv[1])
def stop(signum, frame):
    with record.open("a") as out:
        out.write(signal.Signals(signum).name + "\n")
signal.signal(signal.SIGINT, stop)
# a service that ignores SIGTERM, in a session of its own (as the hub starts them), outliving this "hub"
os.spawnvp(os.P_NOWAIT, "setsid", ["setsid", sys.executable, "-c",
           "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
record.with_suffix(".part").write_text(str(sys.stdin.isatty()))
record.with_suffix(".part").rename(record.with_suffix(".ready"))  # whole: the test reads it as soon as it exists
while not record.exists():
    time.sleep(0.05)
time.sleep(1)  # the hub's own cleanup, during which a second SIGINT would start a second one
"""


def _run_fake_hub(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """``run_hub`` (in a process of its own, as `diemcau hub` runs it, with a terminal on its stdin) around a fake
    hub that records each signal it gets and leaves a process behind that ignores SIGTERM."""
    import pty

    record = tmp_path / "signals.txt"
    runner = (
        f"import os, sys; from pathlib import Path; from diemcau.apps.hub_runner import run_hub; "
        f"sys.exit(run_hub([sys.executable, '-c', {FAKE_HUB!r}, {str(record)!r}], dict(os.environ), "
        f"Path({str(tmp_path)!r}), 'http://127.0.0.1:1/', lambda: None))"
    )
    _, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", runner],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    os.close(terminal)
    ready = record.with_suffix(".ready")
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[0]
        time.sleep(0.05)
    return process, record


def _leftover_pids() -> list[int]:
    """The fake hub's SIGTERM-ignoring service, wherever it is."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        if b"signal.SIG_IGN); time.sleep(600)" in cmdline and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_the_hub_gets_one_sigint_and_nothing_outlives_it(tmp_path: Path, how: str) -> None:
    """Stopped by a terminal's Ctrl-C (SIGINT to the whole foreground group) or by SIGTERM, does the runner send
    the hub exactly one SIGINT (two started two cleanups: "Failed to stop user", "Task was destroyed"), give it
    no terminal, and end the process it left behind even though that one ignores SIGTERM?"""
    process, record = _run_fake_hub(tmp_path)
    try:
        assert record.with_suffix(".ready").read_text() == "False"  # stdin is not the operator's terminal
        assert _leftover_pids(), "the fake hub's service did not start"
        if how == "ctrl-c":
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0, output
        assert record.read_text() == "SIGINT\n"
        assert not _leftover_pids(), output
        assert "Stopping a leftover process of the platform (SIGKILL)" in output, output
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        for pid in _leftover_pids():
            os.kill(pid, signal.SIGKILL)
