"""Each expectation kind against hand-made events, and the model's windows for them."""
from __future__ import annotations

import pytest

from labs.analysis import data, model, suite, summary
from unit.analysis_fixture import T0, addr, converged, events, fault, folder, healthy, probes

VIP1, VIP2 = "192.168.56.131", "192.168.56.132"


def run_with(tmp_path, scenario, target, rows, outcome=healthy):
    results = folder(tmp_path, scenario, target)
    events(results, [*converged(), *rows])
    probes(results, -3, 20, outcome)
    return data.load(results)


def test_silent_loss_window_from_the_configs(tmp_path):
    m = model.load(folder(tmp_path, "crash_keepalived", "lvs1"), {"process_start_s": 0.0})
    to, w = m.silent(m.instances[VIP1], "lvs1")
    assert to == "lvs2"
    assert (w.earliest, w.latest) == pytest.approx((3 + 176 / 256 - 1, 3 + 176 / 256 + 0.25))


def test_checker_windows_from_the_configs(tmp_path):
    m = model.load(folder(tmp_path, "real_server_down", "server1"), {"process_start_s": 0.0})
    assert m.directors == ("lvs1", "lvs2")
    down = m.checker_down()
    # 3 connects of 2 s and 2 waits of 3 s after the first check, which starts within delay_loop 6
    assert (down.earliest, down.latest) == pytest.approx((12, 18.25))
    assert m.checker_up().latest == pytest.approx(6 + 2 + 0.25)


def test_crash_duplicate_vip_is_measured(tmp_path):
    run = run_with(tmp_path, "crash_keepalived", "lvs1",
                   [fault(0, "inject"), addr(3.2, "lvs2", "add", VIP1), fault(10, "heal"),
                    {"t": T0 + 10.3, "kind": "vrrp", "host": "lvs1", "instance": "VI_1", "state": "BACKUP", "priority": 100},
                    addr(10.3, "lvs1", "del", VIP1), addr(14.0, "lvs1", "add", VIP1), addr(14.0, "lvs2", "del", VIP1)])
    s = summary.summarize(run)
    inject, heal = s["phases"]
    (cp,) = [e for e in inject["expectations"] if e["kind"] == "move"]
    assert cp["verdict"] == "pass" and cp["vip_removed_from_old_s"] is None
    assert cp["duplicate_s"] == pytest.approx(10 - 3.2)  # from lvs2's add until the heal
    (back,) = [e for e in heal["expectations"] if e["kind"] == "move"]
    assert back["duplicate_s"] == pytest.approx(0.3)  # until the restarted keepalived removed it
    assert back["verdict"] == "pass" and back["restart_s"] == pytest.approx(0.3)


def test_release_and_its_window(tmp_path):
    rows = [fault(0, "inject"), addr(3.4, "lvs2", "add", VIP1), addr(3.3, "lvs1", "add", VIP2), fault(10, "heal"),
            addr(12.0, "lvs2", "del", VIP1), addr(12.5, "lvs1", "del", VIP2)]
    s = summary.summarize(run_with(tmp_path, "split_brain", "lvs1", rows))
    heal = {e["vip"]: e for e in s["phases"][1]["expectations"] if e["kind"] == "release"}
    # the heal opens lvs1's inbound VRRP first and its outbound 1.5 s later: lvs2 can hear
    # lvs1 (and yield .131) only from then on
    assert heal[VIP1]["verdict"] == "pass" and heal[VIP1]["measured_s"] == pytest.approx(2.0)
    assert (heal[VIP1]["model"]["earliest_s"], heal[VIP1]["model"]["latest_s"]) == pytest.approx((1.5, 2.75))
    assert heal[VIP2]["verdict"] == "fail" and "outside the model's [0.000, 1.250]" in heal[VIP2]["reason"]


def test_stay_fails_when_the_vip_moves(tmp_path):
    rows = [fault(0, "inject"), addr(4.0, "server1", "del", "192.168.56.111"),
            addr(4.7, "server2", "add", "192.168.56.111")]
    s = summary.summarize(run_with(tmp_path, "kill_nginx", "server1", rows))
    stays = {e["vip"]: e for e in s["phases"][0]["expectations"] if e["kind"] == "stay"}
    assert stays["192.168.56.111"]["verdict"] == "fail" and "left server1 after 4.000 s" in stays["192.168.56.111"]["reason"]
    assert stays[VIP1]["verdict"] == "pass"


def test_clients_whole_again_bound(tmp_path):
    def outcome(vip, source, t):
        server, status, error = healthy(vip, source, t)
        return ("", None, "refused") if server == "server1" and 0 <= t < 5.0 else (server, status, error)

    s = summary.summarize(run_with(tmp_path, "kill_nginx", "server1", [fault(0, "inject")], outcome))
    blips = {e["vip"]: e for e in s["phases"][0]["expectations"] if e["kind"] == "clients"}
    # restarted at the next check: within the script interval (3 s) + 6 process starts;
    # both LVS VIPs balance onto .111, so both carry the bound
    assert set(blips) == {VIP1, VIP2}
    assert blips[VIP1]["verdict"] == "fail" and blips[VIP1]["measured_s"] == pytest.approx(4.9)
    assert "past the model's 3.26 s" in blips[VIP1]["reason"]


def test_moves_are_counted(tmp_path):
    rows = [fault(0, "inject")]
    for n in range(3):
        rows += [addr(n * 12 + 3.5, "lvs2", "add", VIP1), addr(n * 12 + 9.8, "lvs2", "del", VIP1)]
    rows.append({"t": T0 + 40, "kind": "end"})
    s = summary.summarize(run_with(tmp_path, "link_flap", "lvs1", rows))
    (moves,) = [e for e in s["phases"][0]["expectations"] if e["kind"] == "moves"]
    assert (moves["count"], moves["verdict"], moves["at_s"]) == (3, "pass", [3.5, 15.5, 27.5])


def test_checker_expectation_needs_every_director(tmp_path):
    def ipvs(t, host, state):
        return {"t": T0 + t, "kind": "ipvs", "host": host, "real_server": "192.168.56.111:80",
                "virtual_server": "192.168.56.131:80", "state": state}

    rows = [fault(0, "inject"), ipvs(14.0, "lvs1", "DOWN"), fault(30, "heal"), ipvs(32.0, "lvs1", "UP"), ipvs(33.0, "lvs2", "UP"),
            {"t": T0 + 45, "kind": "end"}]
    s = summary.summarize(run_with(tmp_path, "real_server_down", "server1", rows))
    down = next(e for e in s["phases"][0]["expectations"] if e["kind"] == "checker")
    assert down["verdict"] == "fail" and down["per_director_s"] == {"lvs1": 14.0, "lvs2": None}
    up = next(e for e in s["phases"][1]["expectations"] if e["kind"] == "checker")
    assert up["verdict"] == "pass" and up["measured_s"] == pytest.approx(3.0)


def test_observation_ends_at_the_end_marker(tmp_path):
    """Teardown removes every VIP after the observation: that is not the fault's doing."""
    rows = [fault(0, "inject"), {"t": T0 + 15, "kind": "end"}, addr(16, "server1", "del", "192.168.56.111")]
    s = summary.summarize(run_with(tmp_path, "kill_nginx", "server1", rows))
    assert all(e["verdict"] == "pass" for e in s["phases"][0]["expectations"] if e["kind"] == "stay")


def test_repeat_spread():
    assert suite.spread([0.7, 0.9, 0.8, 2.0]) == {"n": 4, "min": 0.7, "median": 0.8, "p95": 2.0, "max": 2.0}
    assert suite.percentile(list(range(1, 101)), 95) == 95


def test_window_widened_by_the_time_the_fault_took_to_apply(tmp_path):
    rows = [fault(0, "inject"), {"t": T0 + 0.001, "kind": "fault_note", "ref_t": T0, "applied_in_s": 0.4},
            addr(4.2, "lvs2", "add", VIP1), addr(3.3, "lvs1", "add", VIP2)]
    s = summary.summarize(run_with(tmp_path, "split_brain", "lvs1", rows))
    moved = {e["vip"]: e for e in s["phases"][0]["expectations"] if e["kind"] == "move"}
    assert moved[VIP1]["model"]["latest_s"] == pytest.approx(3 + 176 / 256 + 0.25 + 0.4, abs=1e-3)
    assert moved[VIP1]["verdict"] == "pass" and s["phases"][0]["notes"] == [{"applied_in_s": 0.4}]


def test_share_of_the_busiest_server(tmp_path):
    def one_server(vip, source, t):
        return ("server1", 200, "") if t >= 0 else healthy(vip, source, t)

    rows = [fault(0, "inject"), {"t": T0 + 10, "kind": "end"}]
    s = summary.summarize(run_with(tmp_path, "persistence", "client", rows, one_server))
    shares = {e["vip"]: e for e in s["phases"][0]["expectations"] if e["kind"] == "share"}
    assert shares[VIP1]["measured_s"] == 1.0 and shares[VIP1]["verdict"] == "pass"  # persistence 5: one server
    assert shares[VIP1]["answers"] == {"server1": 100}


MAC = {"lvs1": "02:00:00:00:01:21", "lvs2": "02:00:00:00:01:22"}


def neigh(t: float, vip: str, host: str) -> dict:
    return {"t": T0 + t, "kind": "neigh", "host": "client", "address": vip, "lladdr": MAC[host], "state": "STALE"}


def split_brain_heal(tmp_path, clients_fail_until: float):
    """split_brain on lvs1: the client follows lvs1's GARP for .132 during the split; lvs1
    yields .132 0.5 s into the heal and (without a re-announcement) the client keeps
    lvs1's MAC: requests to .132 fail from then until `clients_fail_until`."""
    rows = [*({"t": T0 - 30, "kind": "mac", "host": h, "ifname": "enp0s8", "mac": m} for h, m in MAC.items()),
            neigh(-20, VIP2, "lvs2"), fault(0, "inject"), addr(3.4, "lvs2", "add", VIP1), addr(3.3, "lvs1", "add", VIP2),
            neigh(3.3, VIP2, "lvs1"), neigh(3.4, VIP1, "lvs2"), fault(10, "heal"),
            addr(10.5, "lvs1", "del", VIP2), neigh(10.9, VIP1, "lvs1"), addr(12.0, "lvs2", "del", VIP1),
            {"t": T0 + 18, "kind": "end"}]
    if clients_fail_until < 8:
        rows.append(neigh(10 + clients_fail_until, VIP2, "lvs2"))

    def outcome(vip, source, t):
        if vip == VIP2 and 10.5 <= t < 10 + clients_fail_until:
            return "", None, "timeout"
        return healthy(vip, source, t)

    return summary.summarize(run_with(tmp_path, "split_brain", "lvs1", rows, outcome))


def test_stale_arp_still_failing_at_the_end_fails_naming_the_cause(tmp_path):
    s = split_brain_heal(tmp_path, 99)
    heal = {e["vip"]: e for e in s["phases"][1]["expectations"] if e["kind"] == "clients"}
    stale = heal[VIP2]
    assert stale["verdict"] == "fail" and stale["still_failing_at_end"]
    assert stale["stale_arp"]["host"] == "lvs1" and stale["stale_arp"]["released_at_s"] == pytest.approx(0.5)
    assert "still failing at the end" in stale["reason"]
    assert "stale ARP: clients sent 192.168.56.132 to lvs1's MAC for 7.4 s after lvs1 released it" in stale["reason"]
    assert heal[VIP1]["verdict"] == "pass" and heal[VIP1]["failed"] == 0
    # every control-plane expectation passed: only the clients' verdict catches it
    assert all(e["verdict"] == "pass" for p in s["phases"] for e in p["expectations"] if e["kind"] != "clients")
    assert s["verdict"] == "fail" and "stale ARP" in s["reason"]


def test_stale_arp_is_bounded_by_the_garp_refresh(tmp_path):
    s = split_brain_heal(tmp_path, 1.2)
    (ok,) = [e for e in s["phases"][1]["expectations"] if e["kind"] == "clients" and e["vip"] == VIP2]
    # lvs1 yields within 1.25 s, then lvs2's next GARP refresh within vrrp_garp_master_refresh 1 s
    assert ok["model"]["latest_s"] == pytest.approx(2.25) and "vrrp_garp_master_refresh 1" in ok["model"]["basis"]
    assert ok["verdict"] == "pass" and ok["measured_s"] == pytest.approx(1.1) and ok["failed"] == 7
    late = split_brain_heal(tmp_path / "late", 2.6)
    (bad,) = [e for e in late["phases"][1]["expectations"] if e["kind"] == "clients" and e["vip"] == VIP2]
    assert bad["verdict"] == "fail" and "the last 2.50 s after the heal, past the model's 2.25 s" in bad["reason"]
    assert bad["reason"].endswith("stale ARP: clients sent 192.168.56.132 to lvs1's MAC for 2.0 s after lvs1 released it")


def test_request_belongs_to_its_scheduled_phase_and_sources(tmp_path):
    """persistence restarts the probe with one address at the fault: the old probe's last
    request, scheduled just after the fault from another address, is not the new phase's."""
    def one_server(vip, source, t):
        if t >= 0 and source != "192.168.56.1":
            return "server2", 200, ""  # only the old probe's tail: scheduled after the fault
        return ("server1", 200, "") if t >= 0 else healthy(vip, source, t)

    rows = [{"t": T0 - 5, "kind": "probe", "action": "start", "sources": [f"192.168.56.{n}" for n in (1, *range(201, 209))]},
            fault(0, "inject"), {"t": T0 + 0.3, "kind": "probe", "action": "start", "sources": ["192.168.56.1"]},
            {"t": T0 + 10, "kind": "end"}]
    s = summary.summarize(run_with(tmp_path, "persistence", "client", rows, one_server))
    inject = s["phases"][0]
    share = next(e for e in inject["expectations"] if e["kind"] == "share" and e["vip"] == VIP1)
    assert inject["probe_sources"] == ["192.168.56.1"]
    assert set(share["answers"]) == {"server1"} and share["measured_s"] == 1.0 and share["verdict"] == "pass"


def test_false_failovers_on_a_lossy_link_are_judged_against_the_models_interval(tmp_path):
    def arrivals(n):
        rows = [fault(0, "inject")]
        for i in range(n):
            rows += [addr(1 + 2 * i, "lvs2", "add", VIP1), addr(1.5 + 2 * i, "lvs2", "del", VIP1)]
        return rows + [fault(15, "heal"), {"t": T0 + 19, "kind": "end"}]

    ok = summary.summarize(run_with(tmp_path / "a", "lossy_link", "lvs1:50%", arrivals(2)))
    flaps = next(e for e in ok["phases"][0]["expectations"] if e["kind"] == "moves" and e["vip"] == VIP1)
    # 20 adverts lost with p=0.5, three in a row: 20 x 0.5 x 0.125 = 1.25 expected, 0-6 in 99.8% of runs
    assert (flaps["count"], flaps["expected_count"], flaps["at_most"], flaps["verdict"]) == (2, 0, 6, "pass")
    assert "expected 1.25" in flaps["model"]["basis"]
    clients = next(e for e in ok["phases"][0]["expectations"] if e["kind"] == "clients")
    assert clients["verdict"] == "measured" and ok["verdict"] == "pass"
    bad = summary.summarize(run_with(tmp_path / "b", "lossy_link", "lvs1:5%", arrivals(3)))
    flaps = next(e for e in bad["phases"][0]["expectations"] if e["kind"] == "moves" and e["vip"] == VIP1)
    assert flaps["verdict"] == "fail" and "the model expects 0 to 1" in flaps["reason"]


def test_vips_on_loopback_are_not_holders(tmp_path):
    """A shared lab's next run starts from a snapshot of every address: the DR real servers'
    .131 on lo must not count as holding it (no duplicate, no 'was not on lvs1')."""
    lo = [{"t": T0 - 1, "kind": "addr", "host": h, "action": "add", "address": VIP1, "ifname": "lo", "snapshot": True}
          for h in ("server1", "server2")]
    rows = [*lo, fault(0, "inject"), addr(0.01, "lvs1", "del", VIP1), addr(0.7, "lvs2", "add", VIP1), fault(10, "heal")]
    s = summary.summarize(run_with(tmp_path, "stop_keepalived", "lvs1", rows))
    move = next(e for e in s["phases"][0]["expectations"] if e["kind"] == "move")
    assert move["holders_at_start"] == ["lvs1"] and move["duplicate_s"] == 0 and move["verdict"] == "pass"


def test_a_failure_at_the_end_of_an_unbounded_phase_is_judged_by_the_next(tmp_path):
    """split_brain with the GARP refresh: while two masters exist clients move at every
    refresh, so the model bounds nothing in the inject phase. One request failing as the
    phase ends (measured on the lvs_three_servers example: scheduled 12 ms before the heal,
    reset) is inside that model; the heal phase judges whether clients were whole again."""
    def outcome(vip, source, t):
        server, status, error = healthy(vip, source, t)
        return ("", None, "reset") if vip == VIP1 and 9.9 <= t < 10.0 else (server, status, error)

    rows = [fault(0, "inject"), addr(3.4, "lvs2", "add", VIP1), fault(10, "heal"), addr(12.0, "lvs2", "del", VIP1)]
    s = summary.summarize(run_with(tmp_path, "split_brain", "lvs1", rows, outcome))
    inject = {e["vip"]: e for e in s["phases"][0]["expectations"] if e["kind"] == "clients"}
    assert inject[VIP1]["model"]["latest_s"] is None, "the model bounds nothing while two masters exist"
    assert inject[VIP1]["still_failing_at_end"] and inject[VIP1]["verdict"] == "pass"
    heal = {e["vip"]: e for e in s["phases"][1]["expectations"] if e["kind"] == "clients"}
    assert heal[VIP1]["verdict"] == "pass" and not heal[VIP1]["still_failing_at_end"]


@pytest.mark.parametrize("scenario, target, variant", [("multicast_blocked", "lvs", "unicast"),
                                                       ("nginx_down", "server1", "weight_plus1")])
def test_nothing_moves_is_observed_past_the_latest_takeover(tmp_path, scenario, target, variant):
    """A "stays" verdict must be able to see the move it rules out: the phase is observed
    past the latest time the takeover would have come (multicast's silent loss; a check
    weight that could move the VIP), not just SETTLE seconds."""
    import json

    import labs.plan.scenario
    from labs.plan import phases as plan
    from labs.analysis import model
    from unit.analysis_fixture import folder

    results = folder(tmp_path, scenario, target, variant=variant)
    m = model.load(results, json.loads((results / "run.json").read_text()))
    loaded = labs.plan.scenario.load(scenario)
    expected = model.for_scenario(loaded, m, target)
    stays = [e for e in expected if e.kind == "stay" and e.phase == "inject"]
    inject_s, _ = plan.phase_seconds(loaded, expected)
    _, takeover = m.silent(m.instances[stays[0].vip], stays[0].host)
    assert stays and all(s.until is not None for s in stays) and inject_s > takeover.latest
