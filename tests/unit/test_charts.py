"""Plots and report.html drawn from a hand-made results folder: what is drawn, not just files."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time

import pytest
from matplotlib.collections import PathCollection

import labs
from conftest import REPO
from labs.report import charts
from labs.analysis import data
from labs.analysis import summary
from labs.analyze import analyze
from unit.analysis_fixture import T0, events, folder, graceful_lvs1, outage_until, probes

VIP1 = "192.168.56.131"


@pytest.fixture
def run_folder(tmp_path):
    results = folder(tmp_path, "stop_keepalived", "lvs1")
    events(results, [*graceful_lvs1(0.70), {"t": T0 + 20, "kind": "end"}])
    probes(results, -3, 20, outage_until(0.7))
    analyze(results)
    return results


def test_timeline_draws_every_probe_the_outage_and_the_model(run_folder):
    run = data.load(run_folder)
    s = json.loads((run_folder / "summary.json").read_text())
    fig = charts.timeline(run, s)
    lanes = [ax for ax in fig.axes if ax.get_ylabel()]
    assert [ax.get_ylabel() for ax in lanes] == ["192.168.56.131", "192.168.56.132"]
    lane = lanes[0]
    drawn = sum(len(c.get_offsets()) for c in lane.collections if isinstance(c, PathCollection))  # the ticks
    assert drawn == len([r for r in run.requests if r.vip == VIP1])  # every probe, ok or failed
    texts = [t.get_text() for t in lane.texts]
    assert "7 of 100 failed over 0.60 s (100%)" in texts  # the error window, in requests
    assert "lvs1->lvs2: 0.70 s (model 0.69-0.94 s)" in texts  # the lane names the VIP
    assert "stop_keepalived on lvs1: PASS" == fig._suptitle.get_text()


def test_distribution_counts_match_the_summary(run_folder):
    s = json.loads((run_folder / "summary.json").read_text())
    fig = charts.distribution(s)
    top = fig.axes[0]
    heights = sorted(int(b.get_height()) for b in top.patches)
    want = sorted(n for p in ("before", "inject", "heal") for v in s["distribution"][p]["by_vip"].values()
                  for n in v.values())
    assert [h for h in heights if h] == want


def test_plot_command_writes_a_self_contained_report(run_folder):
    p = subprocess.run([sys.executable, "-m", "labs.plot", str(run_folder)], cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    for name in ("timeline.png", "timeline.svg", "distribution.png", "distribution.svg"):
        assert (run_folder / name).stat().st_size > 1000
    assert "7 of 100 failed over 0.60 s (100%)" in (run_folder / "timeline.svg").read_text()
    page = (run_folder / "report.html").read_text()
    assert len(re.findall(r'<img alt="[a-z]+" src="data:image/png;base64,', page)) == 2
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    assert "<td>192.168.56.131 lvs1-&gt;lvs2</td>" in page and '<td class="pass">pass</td>' in page
    assert "virtual_server 192.168.56.131 80" in page  # the configs are in it
    assert "graceful stop: skew time of lvs2" in page


def test_every_chart_is_stamped_with_the_version_and_the_day_of_its_run(tmp_path):
    """A chart copied out of its folder still says what drew it and when its run was made:
    run.json's `started` (2026-12-04 here, whatever today is), else the folder name's time."""
    results = folder(tmp_path, "stop_keepalived", "lvs1", started=1796342400.0)  # 2026-12-04T00:00:00Z
    events(results, [*graceful_lvs1(0.70), {"t": T0 + 20, "kind": "end"}])
    probes(results, -3, 20, outage_until(0.7))
    s = analyze(results)
    charts.save(charts.distribution(s), results, "distribution")
    assert f"halab {labs.version()}, 2026-12-04" in (results / "distribution.svg").read_text()
    sweep = tmp_path / "20261126T101500Z-dual_master-sweep-crash_keepalived-advert_int"
    sweep.mkdir()
    assert charts.stamp(sweep) == f"halab {labs.version()}, 2026-11-26"
    assert charts.drawn_on(tmp_path) == time.strftime("%Y-%m-%d", time.gmtime())  # no record: today


def test_the_version_has_one_source():
    """pyproject.toml's: `halab --version` and the charts' stamp say the same."""
    import tomllib

    assert labs.version() == tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    p = subprocess.run([sys.executable, "-m", "labs.halab", "--version"], cwd=REPO, capture_output=True, text=True)
    assert p.stdout.strip() == f"halab {labs.version()}"


def test_plot_bad_input(tmp_path):
    p = subprocess.run([sys.executable, "-m", "labs.plot", str(tmp_path)], cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 2 and "no run.json in" in p.stderr


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_report_shows_its_plots_in_chromium(run_folder, tmp_path):
    """Open report.html from disk in headless Chromium: both embedded plots decode."""
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    subprocess.run([sys.executable, "-m", "labs.plot", str(run_folder)], cwd=REPO, check=True, capture_output=True)
    page = tmp_path / "probe.html"
    probe = ('<script>window.addEventListener("load", () => document.body.setAttribute("data-images", '
             '[...document.images].map(i => i.naturalWidth + "x" + i.naturalHeight).join(",")))</script></body>')
    page.write_text((run_folder / "report.html").read_text().replace("</body>", probe))
    p = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
                       capture_output=True, text=True, timeout=120)
    sizes = re.search(r'data-images="([^"]*)"', p.stdout)
    assert sizes, p.stdout[-2000:] + p.stderr[-2000:]
    images = [tuple(map(int, s.split("x"))) for s in sizes.group(1).split(",")]
    assert len(images) == 2 and all(w > 800 and h > 300 for w, h in images), images


def two_runs(tmp_path):
    out = []
    for n, vip_up in enumerate((0.70, 0.85)):
        results = folder(tmp_path / f"r{n}", "stop_keepalived", "lvs1")
        events(results, [*graceful_lvs1(vip_up), {"t": T0 + 20, "kind": "end"}])
        probes(results, -3, 20, outage_until(vip_up))
        analyze(results)
        out.append(results)
    return out


def test_compare_prints_what_changed_and_aligns_timelines(tmp_path):
    a, b = two_runs(tmp_path)
    p = subprocess.run([sys.executable, "-m", "labs.compare", str(a), str(b), "--out", str(tmp_path / "cmp")],
                       cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    line = next(x for x in p.stdout.splitlines() if "lvs1->lvs2" in x)
    assert "0.70s" in line and "0.85s" in line and "+0.150" in line
    assert (tmp_path / "cmp" / "compare.png").stat().st_size > 1000


def test_spread_plot_of_a_suite(tmp_path):
    a, b = two_runs(tmp_path)
    suite = a.parent.parent / "suite"
    suite.mkdir()
    # as labs.run writes it: run folders named relative to the suite folder's parent
    (suite / "suite.json").write_text(json.dumps({"runs": [f"{a.parent.name}/{a.name}", f"{b.parent.name}/{b.name}"]}))
    summaries = [json.loads((f / "summary.json").read_text()) for f in (a, b)]
    fig = charts.spread(summaries)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "stop_keepalived@lvs1 inject: 192.168.56.131 lvs1->lvs2"
    assert "stop_keepalived@lvs1 heal: 192.168.56.131 lvs2->lvs1" in labels
    assert "stop_keepalived@lvs1 inject: 192.168.56.131 clients whole again" in labels
    dots = sorted(x for c in ax.collections for x, y in c.get_offsets() if y == 0)
    assert dots == pytest.approx([0.70, 0.85])
    p = subprocess.run([sys.executable, "-m", "labs.plot", str(suite)], cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    svg = (suite / "spread.svg").read_text()
    assert "n=2" in svg and "spread over 2 runs" in svg  # both runs drawn, not an empty figure
    shutil.rmtree(b)
    p = subprocess.run([sys.executable, "-m", "labs.plot", str(suite)], cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 2 and "names runs without a summary.json" in p.stderr and p.stderr.count("\n") == 1


def test_close_labels_merge_into_one():
    """Eight checker events (two directors, two virtual servers, down then up) make two
    labels; the same change far apart stays two."""
    items = [(16.5, "lvs1", ".111:80 DOWN"), (16.5, "lvs1", ".111:80 DOWN"), (16.6, "lvs2", ".111:80 DOWN"),
             (16.6, "lvs2", ".111:80 DOWN"), (30.2, "lvs2", ".111:80 UP"), (30.2, "lvs2", ".111:80 UP"),
             (31.4, "lvs1", ".111:80 UP"), (31.4, "lvs1", ".111:80 UP")]
    # the default 1 s merges each burst; the UP events 1.2 s apart stay two labels
    assert charts.merged(items) == [(16.5, "lvs1, lvs2: .111:80 DOWN"), (30.2, "lvs2: .111:80 UP"), (31.4, "lvs1: .111:80 UP")]
    assert charts.merged(items, within=1.5)[1:] == [(30.2, "lvs2, lvs1: .111:80 UP")]
    assert charts.merged([(1.0, "lvs1", "del"), (9.0, "lvs1", "del")]) == [(1.0, "lvs1: del"), (9.0, "lvs1: del")]


def test_an_interactive_session_is_judged_per_step_and_titled_with_what_was_done(tmp_path):
    """Two fail/heal pairs in one session: each phase judged with its own scenario's
    expectations; the timeline says what was done, never "None on None"."""
    from labs.plan import scenario
    from labs.analysis import expectations, model
    from unit.analysis_fixture import addr, converged, fault, healthy

    results = folder(tmp_path, "stop_keepalived", "lvs1")
    info = json.loads((results / "run.json").read_text())
    info.pop("scenario"), info.pop("target")
    (results / "run.json").write_text(json.dumps(info))
    (results / "expectations.json").unlink()
    assert charts.title(analyze(results)) == "interactive session: nothing injected"
    m = model.load(results, info)
    for n, name in ((1, "stop_keepalived"), (2, "link_down")):
        expectations.write(results, model.for_scenario(scenario.load(name), m, "lvs1"), step=n)
    restart = {"t": T0 + 10.2, "kind": "vrrp", "host": "lvs1", "instance": "VI_1", "state": "BACKUP", "priority": 100}
    rows = [*converged(), {"t": T0 - 0.1, "kind": "step", "n": 1, "scenario": "stop_keepalived", "target": "lvs1"},
            fault(0, "inject"), addr(0.01, "lvs1", "del", VIP1), addr(0.7, "lvs2", "add", VIP1), fault(10, "heal"), restart,
            addr(13.9, "lvs1", "add", VIP1), addr(13.9, "lvs2", "del", VIP1),
            {"t": T0 + 19.9, "kind": "step", "n": 2, "scenario": "link_down", "target": "lvs1"},
            fault(20, "inject"), addr(23.5, "lvs2", "add", VIP1), fault(25, "heal"), addr(28.8, "lvs1", "add", VIP1),
            addr(28.8, "lvs2", "del", VIP1), {"t": T0 + 35, "kind": "end"}]
    events(results, rows)
    probes(results, -3, 35, healthy)  # link_down held 5 s: less than lvs1's checkers take to remove a real server
    s = analyze(results)
    assert [(p["phase"], p["step"]) for p in s["phases"]] == [("inject", 1), ("heal", 1), ("inject", 2), ("heal", 2)]
    moves = [next(e for e in p["expectations"] if e["kind"] == "move") for p in s["phases"]]
    assert [m["measured_s"] for m in moves] == pytest.approx([0.7, 3.9, 3.5, 3.8])
    assert "graceful stop" in moves[0]["model"]["basis"] and "silent loss" in moves[2]["model"]["basis"]
    assert s["verdict"] == "pass", s["reason"]
    assert charts.title(s) == "interactive session: stop_keepalived on lvs1, then link_down on lvs1: PASS"
    names = {row[0] for row in summary.rows(s)}
    assert names == {"stop_keepalived@lvs1", "link_down@lvs1"}


def test_report_escapes_what_it_shows(run_folder):
    """A config line with markup is shown as text, not interpreted (autoescaping)."""
    conf = run_folder / "configs" / "lvs1" / "keepalived.conf"
    conf.write_text(conf.read_text() + "\n! <script>alert(1)</script>\n")
    p = subprocess.run([sys.executable, "-m", "labs.plot", str(run_folder)], cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    page = (run_folder / "report.html").read_text()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_spread_draws_unbounded_client_expectations_without_a_band():
    s = {"scenario": "split_brain", "target": "lvs1", "phases": [{"phase": "inject", "expectations": [
        {"kind": "clients", "what": "192.168.56.132 clients whole again", "measured_s": 0.0, "verdict": "pass",
         "model": {"earliest_s": 0.0, "latest_s": None, "basis": "two masters"}}]}]}
    fig = charts.spread([s, s])
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["split_brain@lvs1 inject: 192.168.56.132 clients whole again"]


def test_a_session_without_probe_or_fault_draws_quietly(tmp_path):
    """No probe, nothing injected: no library warning reaches the user, no verdict in the title."""
    import warnings

    results = folder(tmp_path, "stop_keepalived", "lvs1")
    info = json.loads((results / "run.json").read_text())
    info.pop("scenario"), info.pop("target")
    (results / "run.json").write_text(json.dumps(info))
    (results / "expectations.json").unlink()
    events(results, [])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = analyze(results)
        charts.timeline(data.load(results), s)
        charts.distribution(s)
    assert s["verdict"] == "none"


def test_sweep_folder_gives_its_table_chart_and_page(tmp_path):
    """A sweep of two values read from its files: each run's failover and client failures
    per value, the model's window, one chart, a page; a failed verdict makes exit 1."""
    from labs import sweep as sweep_command
    from labs.analysis import sweep

    root = tmp_path / "sweep"
    root.mkdir()
    (root / "sweep.json").write_text(json.dumps({
        "setting": "advert_int", "scenario": "stop_keepalived", "scenario_name": "stop_keepalived", "target": "lvs1",
        "topology": "dual_master", "variant": "default", "repeat": 1, "command": ["python", "-m", "labs.sweep"],
        "values": [{"value": "1"}, {"value": "0.5"}]}))
    for value, moved, outage in (("1", 0.70, 0.7), ("0.5", 5.0, 5.0)):  # the second: far outside the model
        made = folder(tmp_path / value, "stop_keepalived", "lvs1")
        events(made, [*graceful_lvs1(moved), {"t": T0 + 20, "kind": "end"}])
        probes(made, -3, 20, outage_until(outage))
        run = sweep.value_folder(root, "advert_int", value) / "20261126T000000Z-dual_master-stop_keepalived"
        run.parent.mkdir()
        shutil.move(made, run)
        analyze(run)
    assert sweep_command.report_sweep(root) == 1  # the 0.5 run fails its verdict
    doc = json.loads((root / "sweep.json").read_text())
    (fast,), (slow,) = (e["runs"] for e in doc["values"])
    assert fast["measured_s"] == pytest.approx(0.70, abs=0.01) and fast["verdict"] == "pass" and fast["failed"] > 0
    assert slow["measured_s"] == pytest.approx(5.0, abs=0.01) and slow["verdict"] == "fail"
    assert slow["failed"] > fast["failed"] and fast["model_earliest_s"] <= 0.70 <= fast["model_latest_s"]
    text = sweep.table(doc)
    assert "0.700" in text and "5.000" in text and "1 pass" in text and "1 fail" in text
    assert (root / "sweep.png").stat().st_size > 10_000 and (root / "sweep.svg").exists()
    page = (root / "report.html").read_text()
    assert "sweep of advert_int" in page and "data:image/png;base64," in page


def test_a_sweep_without_failures_counts_its_requests_in_whole_numbers():
    """Every run lost nothing: the failures axis reads 0 and 1, not 0.006 steps."""
    runs = [{"measured_s": 0.3, "model_earliest_s": 0.27, "model_latest_s": 0.62, "failed": 0, "what": "x"}]
    doc = {"setting": "advert_int", "scenario_name": "crash_keepalived", "target": "lvs1", "topology": "dual_master",
           "values": [{"value": "0.1", "runs": runs}, {"value": "0.2", "runs": runs}]}
    bottom = charts.sweep(doc).axes[1]
    assert [t for t in bottom.get_yticks() if 0 <= t <= bottom.get_ylim()[1]] == [0.0, 1.0]


def test_report_lists_what_the_lab_changed_in_configs_as_written(run_folder):
    """A lab file's run: run.json's config_changes appear in report.html, one row per change."""
    info = json.loads((run_folder / "run.json").read_text())
    info["config_changes"] = {"lvs1": ["notify_fifo /run/halab/run-1/lvs1/notify.fifo added to global_defs"]}
    (run_folder / "run.json").write_text(json.dumps(info))
    p = subprocess.run([sys.executable, "-m", "labs.plot", str(run_folder)], cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    page = (run_folder / "report.html").read_text()
    assert "<td>lvs1</td><td>notify_fifo /run/halab/run-1/lvs1/notify.fifo added to global_defs</td>" in page
