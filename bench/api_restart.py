"""How long the API is away after ``kill -9``, under a real hub: its supervisor against the hub's own restart.

On one hub (``tests/hubserver.start_hub``, demo province), ``--rounds`` times each:

* **supervised** (what ships): SIGKILL the API process; its supervisor starts it again at once;
* **baseline** (the old behaviour): SIGKILL the supervisor and the API together, so only the hub can notice —
  at its next poll of the service — and start it again, as it did when it ran the API directly.

The outage is from the kill to the first ``200`` of ``/services/diemcau/health`` through the proxy, polled
every ``POLL`` s. Prints each outage, the medians and their ratio.
Run: `.venv/bin/python bench/api_restart.py [--rounds 3]`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from diemcau.demo.seed import seed_demo  # noqa: E402
from tests.api_processes import api_processes  # noqa: E402
from tests.hubserver import HubProcess, start_hub  # noqa: E402

POLL = 0.05
GIVE_UP = 120.0


def answering(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def outage(hub: HubProcess, kill_supervisor: bool) -> float:
    """Kill the API (and, for the baseline, its supervisor); seconds until it answers again."""
    health = f"{hub.url}services/diemcau/health"
    with httpx.Client() as client:
        deadline = time.monotonic() + GIVE_UP
        while not answering(client, health):  # the previous round's restart must be over
            assert time.monotonic() < deadline, "the API never came back"
            time.sleep(0.5)
        supervisor, api = api_processes(hub.process.pid)
        assert supervisor is not None and api is not None, "no supervised API under the hub"
        time.sleep(2.0)  # settled
        killed = time.monotonic()
        if kill_supervisor:
            os.kill(supervisor, signal.SIGKILL)
        os.kill(api, signal.SIGKILL)
        while not answering(client, health):
            assert time.monotonic() - killed < GIVE_UP, "the API never came back"
            time.sleep(POLL)
        return time.monotonic() - killed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with contextlib.contextmanager(start_hub)(seed_demo) as hub:
        supervised = [outage(hub, kill_supervisor=False) for _ in range(args.rounds)]
        baseline = [outage(hub, kill_supervisor=True) for _ in range(args.rounds)]
    print(
        "outage after kill -9 (s): supervised",
        " ".join(f"{s:.2f}" for s in supervised),
        "| baseline (hub's own restart)",
        " ".join(f"{s:.2f}" for s in baseline),
    )
    fast, slow = statistics.median(supervised), statistics.median(baseline)
    print(f"median: supervised {fast:.2f} s, baseline {slow:.2f} s: {slow / fast:.1f}x shorter")


if __name__ == "__main__":
    main()
