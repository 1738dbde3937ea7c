"""The analysis on hand-made results folders whose answers are known."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from conftest import REPO
from labs.analysis import data, summary
from unit.analysis_fixture import (T0, addr, converged, events, fault, folder, graceful_lvs1, healthy, outage_until,
                                   probes)

VIP1 = "192.168.56.131"
VIP_SERVER1 = "192.168.56.111"


def analyze(results):
    return summary.summarize(data.load(results))


def control(phase: dict) -> list[dict]:
    """The phase's control-plane expectations (not the clients')."""
    return [e for e in phase["expectations"] if e["kind"] != "clients"]


def clients_of(phase: dict, vip: str) -> dict:
    (e,) = [e for e in phase["expectations"] if e["kind"] == "clients" and e["vip"] == vip]
    return e


def test_graceful_stop_inside_the_model(tmp_path):
    results = folder(tmp_path, "stop_keepalived", "lvs1")
    events(results, graceful_lvs1(0.70))
    probes(results, -3, 20, outage_until(0.7))
    s = analyze(results)
    inject, heal = s["phases"]
    (cp,) = control(inject)
    assert (cp["from"], cp["to"], cp["measured_s"], cp["verdict"]) == ("lvs1", "lvs2", 0.7, "pass")
    assert cp["model"]["earliest_s"] == pytest.approx(176 / 256, abs=1e-3)
    # latest = skew + 0.25 s latency + 1 process start of 1 ms
    assert cp["model"]["latest_s"] == pytest.approx(176 / 256 + 0.251, abs=1e-3)
    c = inject["clients"][VIP1]
    # last success sent at -0.1, first at 0.7: 0.8 s without answers, 7 failed requests,
    # the last sent at 0.6 s: clients whole again then, inside the takeover's window
    assert c["longest_gap_s"] == pytest.approx(0.8) and c["gap_failed"] == 7 and not c["ongoing"]
    assert c["errors"] == {"timeout": 7} and c["whole_after_s"] == pytest.approx(0.6)
    assert clients_of(inject, VIP1)["verdict"] == "pass" and clients_of(inject, VIP1)["measured_s"] == pytest.approx(0.6)
    assert inject["clients"]["192.168.56.132"]["failed"] == 0
    assert clients_of(inject, "192.168.56.132")["verdict"] == "pass"
    (back,) = control(heal)
    # preemption: 3 x 1 + (256-100)/256 = 3.609 after the restarted keepalived's first
    # notification (0.2 s after the healing began), give or take the 0.25 s latency of
    # observing both that notification and the VIP
    assert back["measured_s"] == pytest.approx(3.9) and back["verdict"] == "pass" and back["restart_s"] == pytest.approx(0.2)
    assert (back["model"]["earliest_s"], back["model"]["latest_s"]) == pytest.approx((3.559, 4.059), abs=1e-3)
    assert s["verdict"] == "pass"


def test_no_outage(tmp_path):
    results = folder(tmp_path, "stop_keepalived", "lvs1")
    events(results, graceful_lvs1(0.70))
    probes(results, -3, 20, healthy)
    c = analyze(results)["phases"][0]["clients"][VIP1]
    assert (c["longest_gap_s"], c["failed"], c["error_window"], c["ongoing"], c["whole_after_s"]) == (0.0, 0, None, False, 0.0)


def test_outage_that_never_ends(tmp_path):
    results = folder(tmp_path, "stop_keepalived", "lvs1")
    events(results, [*converged(), fault(0, "inject"), addr(0.01, "lvs1", "del", VIP1)])
    probes(results, -3, 8, outage_until(99))
    s = analyze(results)
    (phase,) = s["phases"]
    c = phase["clients"][VIP1]
    assert c["ongoing"] and c["gap_end"] is None and c["failed"] == 80 and c["whole_after_s"] is None
    still = clients_of(phase, VIP1)
    assert still["verdict"] == "fail" and still["still_failing_at_end"]
    assert "192.168.56.131: 80 of 80 requests failed, still failing at the end" in still["reason"]
    (cp,) = control(phase)
    assert cp["measured_s"] is None and cp["verdict"] == "fail" and "up on lvs2 never happened" in cp["reason"]
    assert s["verdict"] == "fail"


def test_fault_while_converging(tmp_path):
    results = folder(tmp_path, "stop_keepalived", "lvs1")
    rows = [e for e in graceful_lvs1(0.70) if not (e["kind"] == "addr" and e["address"] == VIP1 and e["t"] < 1000)]
    events(results, rows)
    probes(results, -3, 20, healthy)
    (cp,) = control(analyze(results)["phases"][0])
    assert cp["verdict"] == "fail" and "had not converged" in cp["reason"]
    assert cp["holders_at_start"] == []


def test_failover_outside_the_window_says_by_how_much(tmp_path):
    results = folder(tmp_path, "stop_keepalived", "lvs1")
    events(results, graceful_lvs1(2.5))
    probes(results, -3, 20, outage_until(2.5))
    s = analyze(results)
    assert s["verdict"] == "fail"
    assert "after 2.500 s, outside the model's [0.688, 0.939] s" in s["reason"]


def test_error_window_when_one_real_server_fails(tmp_path):
    """nginx dead on server1 behind a live VIP: only clients pinned to server1 fail."""
    results = folder(tmp_path, "nginx_down", "server1")
    events(results, [*converged(), fault(0, "inject"), addr(6.6, "server1", "del", VIP_SERVER1),
                     addr(7.3, "server2", "add", VIP_SERVER1), fault(15, "heal")])

    def outcome(vip, source, t):
        server, status, error = healthy(vip, source, t)
        if server == "server1" and 0 <= t < 7.3:
            return "", None, "refused"
        return server, status, error

    probes(results, -3, 25, outcome)
    s = analyze(results)
    inject = s["phases"][0]
    (cp,) = control(inject)
    assert (cp["to"], cp["measured_s"], cp["verdict"]) == ("server2", 7.3, "pass")
    # next check within 3 s, 5 s wait, skew 176/256, tolerance 0.25 + 10 x 1 ms
    assert cp["model"]["earliest_s"] == pytest.approx(5 + 176 / 256, abs=1e-3)
    assert cp["model"]["latest_s"] == pytest.approx(8 + 176 / 256 + 0.26, abs=1e-3)
    ew = inject["clients"][VIP1]["error_window"]
    assert ew["by_server"] == {"server1": ew["failed"]}
    assert 7.0 <= ew["span_s"] <= 7.3 and 0.3 < ew["failure_rate"] < 0.7
    assert inject["clients"][VIP1]["longest_gap_s"] < 0.5, "successes kept coming from server2"
    # ... but the partial outage counts in full: clients were whole only 7.2 s after the fault
    partial = clients_of(inject, VIP1)
    assert partial["measured_s"] == pytest.approx(7.2) and partial["failed"] == ew["failed"] > 20
    assert partial["verdict"] == "pass"  # the move's window ends at 8.95 s
    dist = s["distribution"]
    assert set(dist["before"]["by_vip"][VIP1]) == {"server1", "server2"}
    assert set(dist["inject"]["by_vip"][VIP1]) == {"server1", "server2"}  # .111 answered by server2 from 7.3 s


def test_analyze_command_rewrites_summary(tmp_path):
    results = folder(tmp_path, "stop_keepalived", "lvs1")
    events(results, graceful_lvs1(0.70))
    probes(results, -3, 20, outage_until(0.7))
    cmd = [sys.executable, "-m", "labs.analyze", str(results)]
    p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "stop_keepalived@lvs1" in p.stdout and "PASS" in p.stdout
    first = (results / "summary.json").read_text()
    subprocess.run(cmd, cwd=REPO, capture_output=True, check=True)
    assert (results / "summary.json").read_text() == first
    assert json.loads(first)["verdict"] == "pass"


@pytest.mark.parametrize("setup, message", [
    (lambda p: None, "no run.json in"),
    (lambda p: (p / "run.json").write_text("{"), "cannot parse"),
])
def test_analyze_bad_input(tmp_path, setup, message):
    setup(tmp_path)
    p = subprocess.run([sys.executable, "-m", "labs.analyze", str(tmp_path)], cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 2 and message in p.stderr and p.stderr.count("\n") == 1


def test_probe_rate_counts_only_while_the_probe_ran(tmp_path):
    """A restarted probe (persistence) leaves a gap that is not a slow probe."""
    results = folder(tmp_path, "stop_keepalived", "lvs1")
    events(results, graceful_lvs1(0.70))
    probes(results, -3, 20, healthy)
    rows = (results / "probes.csv").read_text().splitlines()
    half = len(rows) // 2  # the second half 5 s later: a restart gap
    out = io.StringIO()
    w = csv.writer(out)
    for n, row in enumerate(csv.reader(io.StringIO("\n".join(rows)))):
        if n > half:
            row = [str(float(v) + 5) if i < 3 else v for i, v in enumerate(row)]
        w.writerow(row)
    (results / "probes.csv").write_text(out.getvalue())
    quality = summary.summarize(data.load(results))["probe"]
    assert quality["achieved_rate_per_vip"] == pytest.approx(10, rel=0.02)


def test_clients_after_a_restart_count_from_the_restarted_keepalived(tmp_path):
    """No failure at all after the heal passes, however late keepalived restarted; a failure
    past the anchored bound fails."""
    results = folder(tmp_path, "stop_keepalived", "lvs1")
    events(results, [*graceful_lvs1(0.70), {"t": T0 + 20, "kind": "end"}])
    probes(results, -3, 20, healthy)
    heal = analyze(results)["phases"][1]
    back = clients_of(heal, VIP1)
    assert back["verdict"] == "pass" and back["measured_s"] == 0.0 and back["model"]["earliest_s"] == 0.0
    # bound: the restart (0.2 s) + preemption 3.609 + 0.25 s latency
    assert back["model"]["latest_s"] == pytest.approx(4.059, abs=1e-3)


def test_analysis_and_plots_need_no_lab_dependencies(tmp_path):
    """labs.analyze, labs.plot and labs.compare read only files: they run where pyroute2,
    Mininet and the daemons are missing (imports of them blocked here). split_brain's
    module imports the fault primitives (pyroute2): the analysis must not need it."""
    results = folder(tmp_path, "split_brain", "lvs1")
    events(results, [*converged(), fault(0, "inject"), addr(3.4, "lvs2", "add", VIP1), addr(3.3, "lvs1", "add", "192.168.56.132"),
                     {"t": T0 + 8, "kind": "end"}])
    probes(results, -3, 8, healthy)
    blocked = ("import sys, runpy\n"
               "for name in ('pyroute2', 'mininet', 'mininet.net', 'pexpect'): sys.modules[name] = None\n"
               "sys.argv = [sys.argv[1], sys.argv[2]]\n"
               "runpy.run_module(sys.argv[0], run_name='__main__')\n")
    for command in ("labs.analyze", "labs.plot"):
        p = subprocess.run([sys.executable, "-c", blocked, command, str(results)], cwd=REPO, capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
    assert json.loads((results / "summary.json").read_text())["verdict"] == "pass"
    assert (results / "timeline.png").exists()


def test_a_folder_from_before_expectations_json_is_still_analysed(tmp_path):
    results = folder(tmp_path, "stop_keepalived", "lvs1")
    (results / "expectations.json").unlink()
    events(results, graceful_lvs1(0.70))
    probes(results, -3, 20, outage_until(0.7))
    assert analyze(results)["verdict"] == "pass"


def checker(t: float, host: str, real_server: str, state: str) -> dict:
    return {"t": T0 + t, "kind": "ipvs", "host": host, "real_server": f"{real_server}:80",
            "virtual_server": f"{VIP1}:80", "state": state}


def returning_lvs1(tmp_path, variant: str, fault_s: float, back: float):
    """link_down on lvs1 held `fault_s` s; lvs1 takes .131 back `back` s after the heal.
    Held long, lvs1's checkers removed both real servers 8-9 s in and re-add them 4.37 and
    5.57 s after the heal (the phases of their delay_loop): clients of .131 fail from the
    takeover until the first is back."""
    results = folder(tmp_path, "link_down", "lvs1", variant=variant)
    heal = fault_s
    rows = [*converged(), fault(0, "inject"), addr(0.05, "lvs1", "del", VIP1), addr(3.5, "lvs2", "add", VIP1)]
    if fault_s > 9:
        rows += [checker(8, "lvs1", VIP_SERVER1, "DOWN"), checker(9, "lvs1", "192.168.56.112", "DOWN")]
    rows += [fault(heal, "heal"), addr(heal + back, "lvs1", "add", VIP1), addr(heal + back, "lvs2", "del", VIP1)]
    if fault_s > 9:
        rows += [checker(heal + 4.37, "lvs1", VIP_SERVER1, "UP"), checker(heal + 5.57, "lvs1", "192.168.56.112", "UP")]
    events(results, sorted(rows, key=lambda r: r["t"]))

    def outcome(vip, source, t):
        empty = fault_s > 9 and heal + back <= t < heal + 4.37
        if vip == VIP1 and (0 <= t < 3.5 or empty):
            return "", None, "timeout"
        return healthy(vip, source, t)
    probes(results, -3, heal + max(back, 6) + 8, outcome)
    return analyze(results)


def test_a_director_back_before_its_checkers_fails_naming_the_empty_table(tmp_path):
    """Exercise 1b's trap: lvs1's link down 20 s, its checkers emptied its IPVS table; it
    preempts 3.62 s after the heal, its checkers re-add the first real server at 4.37 s."""
    s = returning_lvs1(tmp_path, "default", 20, 3.62)
    heal = s["phases"][1]
    (ready,) = [e for e in heal["expectations"] if e["kind"] == "ready"]
    assert ready["verdict"] == "fail" and "before its checkers re-add the real servers" in ready["reason"]
    assert "took it 3.62 s after the heal with no real server in its table" in ready["reason"]
    assert "re-added the first 4.37 s after the heal" in ready["reason"] and "preempt_delay" in ready["reason"]
    clients = clients_of(heal, VIP1)
    assert clients["verdict"] == "fail" and "empty IPVS table: lvs1 held 192.168.56.131" in clients["reason"]
    assert s["verdict"] == "fail"


def test_the_design_fails_even_when_the_checkers_happen_to_be_quick(tmp_path):
    """The same fault, lvs1 preempting after its checkers were back this time (the luck of
    their phase): the verdict follows the configuration, so it fails again."""
    s = returning_lvs1(tmp_path, "default", 20, 5.8)
    (ready,) = [e for e in s["phases"][1]["expectations"] if e["kind"] == "ready"]
    assert ready["verdict"] == "fail" and "with 2 of 2 real servers back" in ready["reason"]


def test_a_short_fault_leaves_the_checkers_alone(tmp_path):
    s = returning_lvs1(tmp_path, "default", 5, 3.62)
    (ready,) = [e for e in s["phases"][1]["expectations"] if e["kind"] == "ready"]
    assert ready["verdict"] == "pass" and "less than the 6.0 s" in ready["reason"], ready["reason"]


def test_preempt_delay_waits_for_the_checkers(tmp_path):
    """--variant ready_checkers: preempt_delay 9 s, past the checkers' 8.25 s bound."""
    s = returning_lvs1(tmp_path, "ready_checkers", 60, 9.5)
    heal = s["phases"][1]
    (ready,) = [e for e in heal["expectations"] if e["kind"] == "ready"]
    assert ready["verdict"] == "pass", ready["reason"]
    assert clients_of(heal, VIP1)["verdict"] == "pass" and s["verdict"] == "pass", s["reason"]
