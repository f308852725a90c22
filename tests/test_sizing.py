"""The sizing arithmetic (``diemcau.core.sizing``): the peak's rates, the cores they keep busy, and the
coordination overhead that ``bench/scale_out.py`` prints as its last line."""

from __future__ import annotations

import pytest

from diemcau.core.sizing import (
    NATIONAL_PEAK,
    Peak,
    busy_cores,
    coordination_overhead,
    cores_to_provision,
    province_peak,
)


def test_does_the_national_peak_give_the_page_rate_the_deployment_guide_assumes() -> None:
    # 37,000 heartbeats/s x 15 s = 555,000 members playing; 10 pages per 1,800 s each.
    assert NATIONAL_PEAK.playing == pytest.approx(555_000)
    assert NATIONAL_PEAK.pages == pytest.approx(3083.33, abs=0.01)


def test_is_a_province_the_nations_peak_scaled_by_its_share_of_members() -> None:
    peak = province_peak(200_000)
    assert peak.heartbeats == pytest.approx(37_000 * 200_000 / 5_600_000)
    assert peak.submissions == pytest.approx(5.0)
    assert peak.pages == pytest.approx(NATIONAL_PEAK.pages * 200_000 / 5_600_000)


def test_is_a_province_without_members_refused() -> None:
    with pytest.raises(ValueError):
        province_peak(0)


def test_do_busy_cores_add_rate_times_cost_over_every_kind() -> None:
    rates = {"heartbeat": 1000.0, "submission": 10.0, "page": 100.0}
    cpu_ms = {"heartbeat": 0.5, "submission": 20.0, "page": 10.0}
    assert busy_cores(rates, cpu_ms) == pytest.approx(0.5 + 0.2 + 1.0)


def test_are_provisioned_cores_rounded_up_to_the_target_plus_a_spare() -> None:
    assert cores_to_provision(1.2) == 2 + 1  # 1.2 / 0.6 = 2 exactly: no extra core for rounding noise
    assert cores_to_provision(1.21) == 3 + 1
    assert cores_to_provision(1.2, target_busy=1.0, spare=0) == 2
    with pytest.raises(ValueError):
        cores_to_provision(1.0, target_busy=0)


def test_is_the_coordination_overhead_the_mix_weighted_extra_cpu() -> None:
    rates = {"heartbeat": 100.0, "submission": 0.0, "page": 10.0}
    one = {"heartbeat": 1.0, "submission": 50.0, "page": 10.0}  # 100 + 100 ms per second
    many = {"heartbeat": 1.1, "submission": 99.0, "page": 10.0}  # 110 + 100: submissions weigh nothing here
    assert coordination_overhead(one, many, rates) == pytest.approx(0.05)
    assert coordination_overhead(one, one, rates) == 0.0


def test_does_the_overhead_weigh_by_the_national_peak_unless_told_otherwise() -> None:
    one = {"heartbeat": 1.0, "submission": 1.0, "page": 1.0}
    many = {"heartbeat": 2.0, "submission": 1.0, "page": 1.0}
    rates = NATIONAL_PEAK.rates()
    expected = rates["heartbeat"] / sum(rates.values())
    assert coordination_overhead(one, many) == pytest.approx(expected)
    assert Peak(1.0, 0.0).rates()["submission"] == 0.0
