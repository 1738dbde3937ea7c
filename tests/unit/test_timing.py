"""The VRRP/checker timing model against the RFC formulas, by hand."""
from __future__ import annotations

import dataclasses

import pytest

from labs import timing
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
