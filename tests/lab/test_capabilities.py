"""Beyond the article: multicast dropped (multicast VRRP splits, unicast holds) and a lossy
link (false failovers counted against the model)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.lab
VIP1 = "192.168.56.131"


def test_blocked_multicast_splits_multicast_vrrp_and_not_unicast(halab_run):
    multicast = halab_run("multicast_blocked")
    assert multicast.verdict == "pass", multicast.reason
    moved = multicast.expectation(VIP1)
    assert moved["kind"] == "move" and moved["to"] == "lvs2" and moved["duplicate_s"] > 0, "lvs2 promoted itself: split"
    unicast = halab_run("multicast_blocked", options=("--variant", "unicast"))
    assert unicast.verdict == "pass", unicast.reason
    assert unicast.expectation(VIP1)["kind"] == "stay", "unicast adverts passed: nothing moved"
    assert unicast.client_expectation(VIP1)["failed"] == 0


def test_lossy_link_false_failovers_are_counted(halab_run):
    result = halab_run("lossy_link", target="lvs1:50%")
    assert result.verdict == "pass", result.reason
    flaps = result.expectation(VIP1)
    assert flaps["kind"] == "moves" and flaps["at_most"] >= flaps["count"] >= flaps["expected_count"]
    assert result.client_expectation(VIP1)["verdict"] == "measured"
