"""The VRRP/checker timing model against the RFC formulas, by hand."""
from __future__ import annotations

import dataclasses

import pytest

from labs.spec import timing
from labs.spec import Timers
from topologies import dual_master


def test_skew_time_v2():
    assert timing.skew_time(80, 1.0) == pytest.approx((256 - 80) / 256)
    assert timing.skew_time(100, 1.0) == pytest.approx(0.609375)


def test_skew_time_v3_scales_with_advert_int():
    assert timing.skew_time(80, 0.5, 3) == pytest.approx(0.5 * 176 / 256)
    assert timing.skew_time(80, 0.5, 2) == pytest.approx(176 / 256)


def test_master_down_interval():
    assert timing.master_down_interval(80, 1.0) == pytest.approx(3 + 176 / 256)
    assert timing.master_down_interval(80, 2.0) == pytest.approx(6 + 176 / 256)


def test_startup_floor_is_the_masters_own_down_interval():
    spec = dual_master.spec()
    assert timing.startup_floor(spec) == pytest.approx(3 + 156 / 256)


def test_checker_cycle():
    # delay_loop 6 + 3 connects x 2 s + 2 waits x 3 s
    assert timing.checker_cycle(Timers()) == pytest.approx(18)


def test_convergence_bound_grows_with_the_timers():
    spec = dual_master.spec()
    slow = dataclasses.replace(spec, timers=Timers(advert_int=3))
    assert timing.convergence_bound(slow) - timing.convergence_bound(spec) == pytest.approx(6)


def test_bring_up_floor_overlaps_the_tiers_by_the_checkers_bootstrap():
    # servers' master-down 3.61 s, the directors started 1 s (keepalived's BOOTSTRAP_DELAY)
    # before it ends, then their own 3.61 s
    spec = dual_master.spec()
    assert timing.directors_lead(spec) == timing.CHECKER_BOOTSTRAP == 1.0
    assert timing.bring_up_floor(spec) == pytest.approx(2 * (3 + 156 / 256) - 1.0)


def test_bring_up_floor_of_one_vrrp_tier_is_its_own():
    from pathlib import Path

    from labs.spec import labfile

    examples = Path(__file__).resolve().parents[2] / "examples"
    pair = labfile.load(examples / "unicast_pair" / "unicast_pair.toml")  # no directors
    lvs = labfile.load(examples / "lvs_three_servers" / "lvs_three_servers.toml")  # plain real servers
    for spec in (pair, lvs):
        assert timing.directors_lead(spec) == 0.0
        assert timing.bring_up_floor(spec) == pytest.approx(timing.startup_floor(spec))
