"""Peak load and the cores it needs: the arithmetic behind docs/deploy-kubernetes.md ("Sizing") and the
coordination overhead that ``bench/scale_out.py`` prints. Pure: numbers in, numbers out.

The event kinds are ``heartbeat`` (one progress event), ``submission`` (one quiz submission, graded) and
``page`` (one page request: the member's home page as a phone asks for it). The national evening peak is the
issue's measurement; a province's peak is the nation's scaled by its share of the members; page requests are an
assumption (10 per 30-minute viewing session of every member playing), stated where it is used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

NATION_MEMBERS = 5_600_000
HEARTBEAT_SECONDS = 15.0  # player.heartbeat_seconds: one heartbeat per member playing, every 15 s
PAGES_PER_SESSION = 10  # portal, player, transcript, materials, questions, a quiz (assumed, not measured)
SESSION_SECONDS = 1800.0  # a 30-minute viewing session
KINDS = ("heartbeat", "submission", "page")


@dataclass(frozen=True)
class Peak:
    """Events per second at the evening peak, by kind."""

    heartbeats: float
    submissions: float

    @property
    def playing(self) -> float:
        """Members playing at once: each sends a heartbeat every ``HEARTBEAT_SECONDS``."""
        return self.heartbeats * HEARTBEAT_SECONDS

    @property
    def pages(self) -> float:
        """Page requests per second: ``PAGES_PER_SESSION`` per ``SESSION_SECONDS`` of every member playing."""
        return self.playing * PAGES_PER_SESSION / SESSION_SECONDS

    def rates(self) -> dict[str, float]:
        """Events per second by kind (``KINDS``)."""
        return {"heartbeat": self.heartbeats, "submission": self.submissions, "page": self.pages}


NATIONAL_PEAK = Peak(heartbeats=37_000.0, submissions=140.0)


def province_peak(members: int, nation: Peak = NATIONAL_PEAK) -> Peak:
    """A province's peak: the nation's, times the province's share of the nation's members."""
    if members <= 0:
        raise ValueError(f"a province has members: {members}")
    share = members / NATION_MEMBERS
    return Peak(heartbeats=nation.heartbeats * share, submissions=nation.submissions * share)


def busy_cores(rates: Mapping[str, float], cpu_ms: Mapping[str, float]) -> float:
    """CPU cores kept busy by ``rates`` (events/s by kind) at ``cpu_ms`` (CPU milliseconds per event, by kind)."""
    return sum(rate * cpu_ms[kind] / 1000.0 for kind, rate in rates.items())


def cores_to_provision(busy: float, target_busy: float = 0.6, spare: int = 1) -> int:
    """Whole cores so that ``busy`` keeps them at most ``target_busy`` busy, plus ``spare`` (a node's loss, a rollout)."""
    if not 0 < target_busy <= 1:
        raise ValueError(f"target_busy is a fraction in (0, 1]: {target_busy}")
    return math.ceil(busy / target_busy - 1e-9) + spare


def coordination_overhead(
    one: Mapping[str, float], many: Mapping[str, float], rates: Mapping[str, float] | None = None
) -> float:
    """The extra CPU of being many, as a fraction: the CPU per second the peak's event mix (``rates``) costs at
    the per-event costs ``many`` (N replicas and 2 worker hosts as one deployment), over what it costs at ``one``
    (the control: separate stacks sharing nothing, or 1 replica and 1 worker host), minus 1; ``rates`` defaults to
    the national evening peak. Both on the same servers, so PostgreSQL against SQLite is not in it."""
    rates = NATIONAL_PEAK.rates() if rates is None else rates
    base = busy_cores(rates, one)
    if base <= 0:
        raise ValueError("the one-replica costs must be positive")
    return busy_cores(rates, many) / base - 1.0
