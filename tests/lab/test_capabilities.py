"""Beyond the article: multicast dropped (multicast VRRP splits, unicast holds) and a lossy
link (false failovers counted against the model); keep-alive connections across a director
failover with lvs_sync_daemon."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.halab_lab
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


def test_connections_survive_director_failover_with_lvs_sync_daemon(halab_run):
    """director_failover with --variant sync: lvs1's master sync daemon has taught lvs2 the
    keep-alive connections through .131, so when lvs1's keepalived stops they stall through
    the takeover and go on (the model judges those older than the kernel's flush bound);
    the connections through .132, which nothing moved, all survive. Without sync the same
    connections all break (hand-made runs: tests/unit/test_connections.py)."""
    result = halab_run("director_failover", options=("--variant", "sync"))
    assert result.verdict == "pass", result.reason
    moved = next(e for e in result.phase()["expectations"] if e["kind"] == "connections" and e["vip"] == VIP1)
    assert moved["expected"] == "survive" and moved["judged"] >= 10 and moved["survived"] >= moved["judged"]
    assert all(c.get("known_by") == ["lvs1", "lvs2"] for c in moved["connections"] if c["fate"] != "broke")
    assert 0 < moved["max_stall_s"] < 3, "a survivor stalls through the takeover, then answers again"
    daemons = {e["host"]: e["daemon"] for e in
               map(json.loads, (result.folder / "events.jsonl").read_text().splitlines()) if e["kind"] == "ipvs_sync"}
    assert daemons["lvs1"].startswith("master sync daemon") and daemons["lvs2"].startswith("backup sync daemon")
