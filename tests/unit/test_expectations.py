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
    (cp,) = inject["expectations"]
    assert cp["verdict"] == "pass" and cp["vip_removed_from_old_s"] is None
    assert cp["duplicate_s"] == pytest.approx(10 - 3.2)  # from lvs2's add until the heal
    (back,) = heal["expectations"]
    assert back["duplicate_s"] == pytest.approx(0.3)  # until the restarted keepalived removed it
    assert back["verdict"] == "pass" and back["restart_s"] == pytest.approx(0.3)


def test_release_and_its_window(tmp_path):
    rows = [fault(0, "inject"), addr(3.4, "lvs2", "add", VIP1), addr(3.3, "lvs1", "add", VIP2), fault(10, "heal"),
            addr(10.6, "lvs2", "del", VIP1), addr(12.5, "lvs1", "del", VIP2)]
    s = summary.summarize(run_with(tmp_path, "split_brain", "lvs1", rows))
    heal = {e["vip"]: e for e in s["phases"][1]["expectations"]}
    assert heal[VIP1]["verdict"] == "pass" and heal[VIP1]["measured_s"] == pytest.approx(0.6)
    assert heal[VIP2]["verdict"] == "fail" and "outside the model's [0.000, 1.250]" in heal[VIP2]["reason"]


def test_stay_fails_when_the_vip_moves(tmp_path):
    rows = [fault(0, "inject"), addr(4.0, "server1", "del", "192.168.56.111"),
            addr(4.7, "server2", "add", "192.168.56.111")]
    s = summary.summarize(run_with(tmp_path, "kill_nginx", "server1", rows))
    stays = {e["vip"]: e for e in s["phases"][0]["expectations"] if e["kind"] == "stay"}
    assert stays["192.168.56.111"]["verdict"] == "fail" and "left server1 after 4.000 s" in stays["192.168.56.111"]["reason"]
    assert stays[VIP1]["verdict"] == "pass"


def test_client_blip_bound(tmp_path):
    def outcome(vip, source, t):
        server, status, error = healthy(vip, source, t)
        return ("", None, "refused") if server == "server1" and 0 <= t < 5.0 else (server, status, error)

    s = summary.summarize(run_with(tmp_path, "kill_nginx", "server1", [fault(0, "inject")], outcome))
    (blip,) = [e for e in s["phases"][0]["expectations"] if e["kind"] == "client_blip"]
    # restarted at the next check: within the script interval (3 s) + 6 process starts
    assert blip["verdict"] == "fail" and blip["measured_s"] == pytest.approx(4.9)


def test_moves_are_counted(tmp_path):
    rows = [fault(0, "inject")]
    for n in range(3):
        rows += [addr(n * 12 + 3.5, "lvs2", "add", VIP1), addr(n * 12 + 9.8, "lvs2", "del", VIP1)]
    rows.append({"t": T0 + 40, "kind": "end"})
    s = summary.summarize(run_with(tmp_path, "link_flap", "lvs1", rows))
    (moves,) = s["phases"][0]["expectations"]
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
    moved = {e["vip"]: e for e in s["phases"][0]["expectations"]}
    assert moved[VIP1]["model"]["latest_s"] == pytest.approx(3 + 176 / 256 + 0.25 + 0.4, abs=1e-3)
    assert moved[VIP1]["verdict"] == "pass" and s["phases"][0]["notes"] == [{"applied_in_s": 0.4}]


def test_share_of_the_busiest_server(tmp_path):
    def one_server(vip, source, t):
        return ("server1", 200, "") if t >= 0 else healthy(vip, source, t)

    rows = [fault(0, "inject"), {"t": T0 + 10, "kind": "end"}]
    s = summary.summarize(run_with(tmp_path, "persistence", "client", rows, one_server))
    shares = {e["vip"]: e for e in s["phases"][0]["expectations"]}
    assert shares[VIP1]["measured_s"] == 1.0 and shares[VIP1]["verdict"] == "pass"  # persistence 5: one server
    assert shares[VIP1]["answers"] == {"server1": 100}
