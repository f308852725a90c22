"""The API as the hub runs it: ``python -m diemcau.apps.api`` on a loopback port, stopped with a signal."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_service_migrates_serves_and_stops_promptly(settings, signum: int) -> None:
    """Does the service migrate its database, answer on the hub's port, and exit soon after SIGINT/SIGTERM?"""
    port = free_port()
    env = {
        **os.environ,
        "DIEMCAU_HOME": str(settings.home),
        "JUPYTERHUB_API_TOKEN": "service-secret",
        "JUPYTERHUB_CLIENT_ID": "service-diemcau",
        "JUPYTERHUB_SERVICE_NAME": "diemcau",  # as the hub gives its services
        "JUPYTERHUB_SERVICE_PREFIX": "/services/diemcau/",
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}",
    }
    process = subprocess.Popen([sys.executable, "-m", "diemcau.apps.api"], env=env, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/services/diemcau/health"
        for _ in range(100):
            try:
                if httpx.get(url).json() == {"status": "ok"}:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the API did not answer on its health route within 10 s")
        assert (settings.home / "diemcau.sqlite").exists()
        process.send_signal(signum)
        # uvicorn shuts down gracefully, then re-raises the signal it caught: either exit status is clean.
        assert process.wait(timeout=10) in (0, -signum)
        assert "Application shutdown complete" in process.stderr.read().decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
