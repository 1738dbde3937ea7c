"""The run judges its own measurement: a probe that ran late or sent too few requests makes
the verdict `disturbed` (a failure stays `fail`, its reason saying so), with exit status 3
from labs.analyze and from a suite with a disturbed run and no failure."""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from conftest import REPO
from labs.analysis import data, measurement, summary
from labs.probes import http
from unit.analysis_fixture import T0, events, folder, graceful_lvs1, healthy, outage_until, probes

LATE = 0.155  # the worst p99 of the four lab tests that failed on a loaded host


def judged(results):
    return summary.summarize(data.load(results))


def stop_keepalived(tmp_path, outcome=healthy, late=0.0):
    results = folder(tmp_path, "stop_keepalived", "lvs1")
    events(results, [*graceful_lvs1(0.70), {"t": T0 + 20, "kind": "end"}])
    probes(results, -3, 20, outcome, late)
    return results


def test_an_on_time_probe_is_not_disturbed(tmp_path):
    s = judged(stop_keepalived(tmp_path, outage_until(0.7)))
    m = s["measurement"]
    assert s["verdict"] == "pass" and not m["disturbed"] and m["why"] == ""
    assert m["late_p99_s"] == 0.0 and m["late_bound_s"] == measurement.LATE_P99_BOUND_S == 0.125
    assert m["counted_from"] == "probes.csv" and m["sent_share"] >= 0.99
    assert "disturbed" not in summary.table(s)


def test_a_late_probe_makes_a_passing_run_disturbed(tmp_path):
    results = stop_keepalived(tmp_path, outage_until(0.7), late=LATE)
    s = judged(results)
    m = s["measurement"]
    assert m["disturbed"] and m["late_p99_s"] == pytest.approx(LATE)
    assert "probe p99 lateness 155 ms > 125 ms" in m["why"]
    assert s["verdict"] == "disturbed"
    assert s["reason"].startswith("timing disturbed: probe p99 lateness 155 ms") and "cannot be trusted" in s["reason"]
    text = summary.table(s)
    assert "verdict: DISTURBED — timing disturbed" in text
    assert "probe timing" in text and "p99 late 155 ms" in text
    p = subprocess.run([sys.executable, "-m", "labs.analyze", str(results)], cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 3, p.stderr
    assert json.loads((results / "summary.json").read_text())["verdict"] == "disturbed"


def test_a_failure_stays_a_failure_when_the_timing_was_disturbed_too(tmp_path):
    s = judged(stop_keepalived(tmp_path, outage_until(8.0), late=LATE))
    assert s["verdict"] == "fail"
    assert s["reason"].endswith("timing disturbed: " + s["measurement"]["why"])


def test_too_few_requests_sent_by_the_probe_own_count_is_disturbed(tmp_path):
    results = stop_keepalived(tmp_path, outage_until(0.7))
    (results / "probe-stats.json").write_text(json.dumps({"sent": 450, "asked": 500, "run_sent": 900, "run_asked": 1000,
                                                          "processes": 2}))
    m = judged(results)["measurement"]
    assert (m["sent"], m["asked"], m["counted_from"], m["sent_share"]) == (900, 1000, "probe-stats.json", 0.9)
    assert m["disturbed"] and m["why"] == "probe sent 900 of 1000 requests asked (90% < 95%)"


def test_the_probe_adds_a_restarted_process_counts_to_the_run(tmp_path):
    stats = tmp_path / "probe-stats.json"
    http.report({"sent": 100, "asked": 100}, stats)
    http.report({"sent": 40, "asked": 50}, stats)
    doc = json.loads(stats.read_text())
    assert (doc["sent"], doc["run_sent"], doc["run_asked"], doc["processes"]) == (40, 140, 150, 2)


@pytest.mark.parametrize("verdicts, code", [
    (["pass", "pass"], 0), (["pass", "disturbed"], 3), (["disturbed", "fail"], 1), (["fail"], 1), (["none"], 1), ([], 0)])
def test_exit_status(verdicts, code):
    assert summary.exit_status(verdicts) == code


def test_a_suite_with_a_disturbed_run_exits_3_and_junit_skips_it(tmp_path, capsys):
    from labs.lab import suite

    (tmp_path / "a").mkdir()
    on_time = judged(stop_keepalived(tmp_path / "a"))
    (tmp_path / "b").mkdir()
    late = judged(stop_keepalived(tmp_path / "b", late=LATE))
    folders = [tmp_path / "a" / "run", tmp_path / "b" / "run"]
    xml = tmp_path / "junit.xml"
    plan = SimpleNamespace(repeat=1, fresh=False, results=tmp_path / "results", spec=SimpleNamespace(name="dual_master"),
                           junit_xml=xml)
    (tmp_path / "results").mkdir()
    usage = [dict.fromkeys(("namespaces", "processes", "fds", "mounts", "rss_kib"), 0)] * 2
    assert suite.report(plan, folders, [on_time, late], usage, 1) == 3
    out = capsys.readouterr().out
    assert "1 of 2 scenario run(s) passed; 1 disturbed" in out and "disturbed" in out.split("=== summary")[1]
    case = ET.parse(xml).getroot()
    assert case.get("skipped") == "1" and case.get("failures") == "0"
    skipped = [c.find("skipped") for c in case.iter("testcase")]
    assert skipped[0] is None and skipped[1].get("message").startswith("timing disturbed")
    doc = json.loads(next((tmp_path / "results").glob("*-suite/suite.json")).read_text())
    assert doc["verdicts"] == ["pass", "disturbed"]


def test_report_html_and_compare_say_the_timing_was_disturbed(tmp_path):
    from labs import compare
    from labs.report import html

    (tmp_path / "a").mkdir()
    on_time = judged(stop_keepalived(tmp_path / "a"))
    (tmp_path / "b").mkdir()
    results = stop_keepalived(tmp_path / "b", late=LATE)
    late = judged(results)
    page = html.page(results, late, [])
    assert '<p class="disturbed">Timing disturbed: probe p99 lateness 155 ms' in page
    assert '<td class="disturbed">disturbed</td>' in page and "155.0 ms (bound 125 ms)" in page
    assert "Timing disturbed" not in html.page(tmp_path / "a" / "run", on_time, [])
    rows = {(r[0], r[1]): r for r in compare.changes(on_time, late)}
    assert rows[("run", "probe p99 lateness")][-1] == "ok/disturbed"
