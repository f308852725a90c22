"""A member's spawn-free login time versus a login that spawns a single-user server, on the same hub.

Member: GET the login page, POST the form, follow the OAuth redirects to the rendered portal (httpx; median of
``ROUNDS``). Baseline: what a stock JupyterHub gives every user — log in, then start a single-user server and
wait until it answers (a staff account, which is allowed to spawn; median of ``SPAWN_ROUNDS``).
Run: `make bench` or `.venv/bin/python bench/login_time.py`.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from diemcau.demo.seed import DEMO_PASSWORD, seed_demo  # noqa: E402
from tests.hubserver import HubProcess, login, start_hub  # noqa: E402

ROUNDS = 10
# Logins hash at production's Argon2 cost (the settings' defaults), not the tests' cheapest.
PRODUCTION_ARGON2 = {
    "DIEMCAU_AUTH__ARGON2_TIME_COST": "3",
    "DIEMCAU_AUTH__ARGON2_MEMORY_KIB": "65536",
    "DIEMCAU_AUTH__ARGON2_PARALLELISM": "4",
}
SPAWN_ROUNDS = 3


def member_login_seconds(hub: HubProcess) -> float:
    with httpx.Client() as client:
        start = time.perf_counter()
        page = login(client, hub.url, "42000002", DEMO_PASSWORD)
        elapsed = time.perf_counter() - start
    assert page.status_code == 200 and "/services/diemcau/" in str(page.url), page.status_code
    return elapsed


def spawning_login_seconds(hub: HubProcess, username: str) -> float:
    with httpx.Client() as client:
        start = time.perf_counter()
        assert login(client, hub.url, username, DEMO_PASSWORD).status_code == 200
        hub.api("POST", f"/users/{username}/server").raise_for_status()
        while not hub.api("GET", f"/users/{username}").json()["servers"].get("", {}).get("ready"):
            time.sleep(0.1)
        elapsed = time.perf_counter() - start
    hub.api("DELETE", f"/users/{username}/server")
    while hub.api("GET", f"/users/{username}").json()["servers"]:
        time.sleep(0.2)
    return elapsed


def main() -> None:
    with contextlib.contextmanager(start_hub)(seed_demo, **PRODUCTION_ARGON2) as hub:
        member_login_seconds(hub)  # warm-up: first argon2 and OAuth client set-up
        member = statistics.median(member_login_seconds(hub) for _ in range(ROUNDS))
        spawn = statistics.median(spawning_login_seconds(hub, "42000022") for _ in range(SPAWN_ROUNDS))
    print(f"member login to portal (no server):   {member * 1000:8.0f} ms  (median of {ROUNDS})")
    print(f"baseline: login + single-user spawn:   {spawn * 1000:8.0f} ms  (median of {SPAWN_ROUNDS})")
    print(f"ratio baseline/member:                 {spawn / member:8.1f}x faster")


if __name__ == "__main__":
    main()
