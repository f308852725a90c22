"""Under a real hub: after ``kill -9`` of the API service, its supervisor starts it again — the API answers
through the proxy once more, from a new process, while the supervisor (what the hub watches) never died."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from tests.api_processes import api_processes
from tests.hubserver import HubProcess

pytestmark = [pytest.mark.hub]
GENEROUS_WAIT = 120.0  # far past any restart; the hub's own poll (the old way) is 30 s


def answering(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_api_comes_back_after_sigkill_from_its_supervisor(hub: HubProcess) -> None:
    """After SIGKILL of the API process, does a new API process answer again while the supervisor the hub
    started is the same process — so the restart did not wait for the hub's next check?"""
    health = f"{hub.url}services/diemcau/health"
    supervisor, api = api_processes(hub.process.pid)
    assert supervisor is not None and api is not None and answering(health)
    os.kill(api, signal.SIGKILL)
    deadline = time.monotonic() + GENEROUS_WAIT
    while not answering(health) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert answering(health)
    new_supervisor, new_api = api_processes(hub.process.pid)
    assert new_supervisor == supervisor  # the hub restarted nothing: the supervisor did
    assert new_api is not None and new_api != api
    me = hub.token_for("42000002")
    answer = httpx.get(f"{hub.url}services/diemcau/api/me", headers={"Authorization": f"token {me}"}, timeout=30)
    assert answer.status_code == 200  # and it serves members, not just its health probe
