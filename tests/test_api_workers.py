"""``python -m diemcau.apps.api`` with ``perf.api_workers = 2``: two worker processes answer on one port, an
anonymous API call gets its 401 from either, and SIGINT (how the hub stops a managed service) stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.data_dirs import data_dir_environ
from tests.hubserver import free_port


def _children(pid: int) -> list[int]:  # uvicorn's workers, and multiprocessing's resource tracker
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in found.read_text().split()] if found.exists() else []


def test_two_workers_serve_and_stop_on_sigint(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        **data_dir_environ(tmp_path),
        "DIEMCAU_PERF__API_WORKERS": "2",
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}",
        "JUPYTERHUB_SERVICE_PREFIX": "/services/diemcau/",
        # what the hub gives a managed service; no hub is asked anything by an anonymous call
        "JUPYTERHUB_API_TOKEN": "service-token",
        "JUPYTERHUB_CLIENT_ID": "service-diemcau",
        "JUPYTERHUB_SERVICE_NAME": "diemcau",  # as the hub gives its services
        "JUPYTERHUB_API_URL": "http://127.0.0.1:9/hub/api",
    }
    service = subprocess.Popen(
        [sys.executable, "-m", "diemcau.apps.api"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}/services/diemcau"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert service.poll() is None, service.stderr.read().decode()[-3000:] if service.stderr else ""
            assert time.monotonic() < deadline, "the service did not answer /health"
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        workers = [pid for pid in _children(service.pid) if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(workers) == 2, workers
        answers = {httpx.get(f"{base}/api/me", timeout=10).status_code for _ in range(20)}
        assert answers == {401}
    finally:
        service.send_signal(signal.SIGINT)
        try:
            service.wait(timeout=30)
        finally:
            service.kill()
    assert service.returncode is not None
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "a worker outlived the service"
