"""Run JupyterHub as a child process: wait until it answers, print a banner, stop it cleanly on Ctrl-C.

Ctrl-C in a terminal reaches the whole foreground process group, so the hub gets its own SIGINT and stops
its proxy and services; this parent only waits for it. SIGTERM (from a supervisor) is forwarded as SIGINT.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

STOP_GRACE_SECONDS = 20


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 90) -> bool:
    """Poll ``url`` until it answers 200; ``False`` if the hub exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def stop(process: subprocess.Popen) -> int:
    """Ask the hub to stop (SIGINT, as JupyterHub expects), then insist after a grace period."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def busy_ports(ports: dict[str, int], host: str = "127.0.0.1") -> dict[str, int]:
    """Which of the named ports something already listens on (a second hub, a leftover proxy)."""
    busy = {}
    for name, port in ports.items():
        with socket.socket() as sock:
            if sock.connect_ex((host, port)) == 0:
                busy[name] = port
    return busy


def restore_default_sigint() -> None:
    """Undo an inherited SIG_IGN for SIGINT (use as a ``preexec_fn``)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_hub(command: list[str], env: dict[str, str], cwd: Path, health_url: str, banner: Callable[[], None]) -> int:
    """Run the hub until it exits or is interrupted; returns its exit status."""
    # A shell's background job starts with SIGINT ignored, and the hub's services would inherit that and hold
    # up shutdown by 30 s each; restore the default so every process of the platform answers SIGINT.
    process = subprocess.Popen(command, env=env, cwd=cwd, preexec_fn=restore_default_sigint)
    signal.signal(signal.SIGTERM, lambda *_: process.send_signal(signal.SIGINT))
    try:
        if wait_until_up(health_url, process):
            banner()
        return process.wait()
    except KeyboardInterrupt:
        return stop(process)
