"""Each decision made in one place: the programs' paths, the DR ARP sysctls and the
sysctl.conf record, the rendering of a lab's files, the probes' defaults. Each test asks
the places that use a decision whether they take it from its one owner."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from conftest import REPO
from labs.common import requirements
from labs.common import results
from labs.daemons import CLASSES
from labs.daemons.keepalived import Keepalived, config_test_command
from labs.daemons.nginx import Nginx
from labs.kaconfig import oracle


def test_each_program_path_is_written_once():
    """A program's path is a string in one module: the daemon class that runs it, or
    labs.common.requirements for the other tools."""
    written: Counter[str] = Counter()
    for folder in ("labs", "scenarios", "topologies", "tools"):
        for path in (REPO / folder).rglob("*.py"):
            written.update(re.findall(r"[\"'](/usr/s?bin/[\w.-]+)[\"']", path.read_text()))
    assert {p: n for p, n in written.items() if n > 1} == {}
    assert {Keepalived.binary, Nginx.binary, requirements.IPVSADM} <= set(written)


def test_the_daemons_commands_and_the_oracle_run_the_class_binary():
    assert config_test_command(Path("keepalived.conf"))[0] == Keepalived.binary
    assert oracle.lab_keepalived() == Keepalived.binary
    assert "KEEPALIVED" not in vars(oracle)
    from labs import daemons

    assert daemons.programs() == {c.binary: c.package for c in CLASSES}
    assert {name: cmd[0] for name, cmd in daemons.version_commands().items()} == {c.name: c.binary for c in CLASSES}


def test_ipvsadm_is_one_constant():
    from labs.lab import inspect
    from scenarios import director_failover

    assert requirements.TOOLS[requirements.IPVSADM] == "ipvsadm"
    assert results.TOOL_VERSIONS["ipvsadm"][0] is requirements.IPVSADM
    assert inspect.IPVSADM is requirements.IPVSADM and director_failover.IPVSADM is requirements.IPVSADM


def test_the_dr_arp_sysctls_the_lab_sets_are_the_ones_lint_wants(tmp_path):
    """One DR_ARP: what the lab sets on a DR real server satisfies lint; without it, lint
    asks for exactly those settings."""
    import dataclasses

    from labs import lint

    from labs.spec import sysctls
    from topologies import dual_master

    spec = dual_master.spec()
    server = spec.role("real_server")[0]
    assert {k: v for k, v in sysctls.of_host(spec, server).items() if k.startswith("net.ipv4.conf.all.")} == \
        {f"net.ipv4.conf.all.{key}": str(value) for key, value in sysctls.DR_ARP}
    assert sysctls.read(sysctls.record(spec, server)) == sysctls.of_host(spec, server)
    files, addresses = lint.render_spec(spec, tmp_path / "on")
    assert not [f for f in lint.check(lint.load_files(files, addresses)) if f.check == "dr-arp"]
    files, addresses = lint.render_spec(dataclasses.replace(spec, arp_sysctls=False), tmp_path / "off")
    found = [str(f) for f in lint.check(lint.load_files(files, addresses)) if f.check == "dr-arp"]
    assert all(any(f"all.{key}=0: set it to {value}" in m for m in found) for key, value in sysctls.DR_ARP), found
    unrecorded = [str(f) for f in lint.check(lint.load_files(files, addresses, sysctls={})) if f.check == "dr-arp"]
    assert unrecorded and all(f"net.ipv4.conf.all.{key}={value}" in m for m in unrecorded for key, value in sysctls.DR_ARP)


def test_the_lab_labs_render_and_lint_render_the_same_files(tmp_path):
    """labs.daemons.render is the one rendering: labs.render and lint write what the lab
    writes (its folders aside), and nothing else writes a sysctl record."""
    from labs import daemons, lint, render
    from labs.lab.paths import RunPaths
    from topologies import dual_master

    spec = dual_master.spec()

    def configs(folder: Path) -> dict[str, str]:
        return {str(p.relative_to(folder)): p.read_text().replace(str(folder), "DIR")
                for p in sorted((folder / "configs").rglob("*")) if p.is_file()}

    lab = tmp_path / "lab"
    made = daemons.render(spec, RunPaths(lab, lab / "run"))
    assert [(d.host.name, d.name) for d in made] == [(d.host.name, d.name) for d in daemons.of_lab(spec, RunPaths(lab, lab))]
    render.render(spec, RunPaths(tmp_path / "render", tmp_path / "render" / "run"), [h.name for h in spec.hosts])
    lint.render_spec(spec, tmp_path / "lint")
    assert configs(lab) == configs(tmp_path / "render") == configs(tmp_path / "lint")
    assert {f"{h.name}/sysctl.conf" for h in spec.hosts} <= {k.removeprefix("configs/") for k in configs(lab)}
    writers = [p for p in (REPO / "labs").rglob("*.py") if "sysctls.record(" in p.read_text()]
    assert writers == [REPO / "labs" / "daemons" / "__init__.py"]


def test_the_probes_defaults_are_one_constant_each():
    """The HTTP probe's rate and timeout and the connection probe's interval: each probe
    owns its defaults, and the commands, the runs and the analysis take them from it."""
    from labs import bench_lab
    from labs import run as run_command
    from labs.analysis import connections
    from labs.analysis.data import Run
    from labs.analysis.expectations import LATENCY
    from labs.probes import connections as connection_probe
    from labs.probes import http
    from labs.plan.runplan import ProbeSettings
    from labs.plan.scenario import load

    args = run_command.parse(["dual_master"])
    assert (args.rate, args.timeout) == (http.RATE, http.TIMEOUT)
    assert (ProbeSettings().rate, ProbeSettings().timeout) == (http.RATE, http.TIMEOUT)
    assert bench_lab.RATE is http.RATE
    assert load("director_failover").connection_interval == connection_probe.INTERVAL  # what ConnectionProbeProcess uses
    unrecorded = Run(Path("."), {}, [], [])
    recorded = Run(Path("."), {}, [{"t": 0.0, "kind": "connections_probe", "action": "start", "interval": 0.5}], [])
    assert connections.stall_s(unrecorded) == connection_probe.INTERVAL + 2 * LATENCY == 0.6
    assert connections.stall_s(recorded) == 0.5 + 2 * LATENCY


# ---------------------------------------------------------------- expectation kinds

VIP = "192.168.56.131"
MODEL = {"earliest_s": 0.5, "latest_s": 1.5, "basis": "b"}
CLIENTS = {"requests": 100, "failed": 3, "whole_after_s": 0.9, "ongoing": False,
           "error_window": {"start": 100.5, "end": 100.9, "span_s": 0.4, "failure_rate": 0.1}}


def one_of_each() -> list[dict]:
    """An evaluated result of every kind (the fields tables and charts read), one VIP."""
    common = {"vip": VIP, "verdict": "pass", "reason": ""}
    results = {
        "move": {"measured_s": 0.7, "model": MODEL},
        "release": {"measured_s": 0.8, "model": MODEL},
        "checker": {"measured_s": 0.9, "model": MODEL},
        "clients": {"measured_s": 1.0, "model": MODEL, "requests": 100, "failed": 3, "still_failing_at_end": False},
        "ready": {"measured_s": 1.1},
        "stay": {"measured_s": 0.0},
        "moves": {"measured_s": 4.2, "count": 3, "expected_count": 3, "at_most": None,
                  "model": {"earliest_s": None, "latest_s": None, "basis": "b"}},
        "share": {"measured_s": 0.52, "model": {"earliest_s": 0.4, "latest_s": 0.6, "basis": "b"}},
        "connections": {"measured_s": None, "model": {"earliest_s": None, "latest_s": None, "basis": "b"},
                        "expected": "survive", "older_than_s": 0.0, "stalled": 0, "survived": 2, "alive": 2,
                        "connections": []},
    }
    from labs.analysis.expectations import KINDS

    assert set(results) == set(KINDS), "a new kind needs a result here"
    return [{"kind": k, "what": f"{k} of {VIP}", **common, **r} for k, r in results.items()]


def test_each_kind_says_what_tables_and_charts_make_of_it():
    """Decided per kind: whether its figure is a time, which figure compare and the repeat
    table take, what the timeline draws, whether its row carries the client figures."""
    from labs.analysis.expectations import KINDS

    described = {k: (c.timed, c.figure, c.timeline, c.client_figures) for k, c in KINDS.items()}
    assert described == {
        "move": (True, "measured_s", "window", False), "release": (True, "measured_s", "window", False),
        "checker": (True, "measured_s", "window", False), "clients": (True, "measured_s", "bound", True),
        "ready": (True, "measured_s", "", False), "stay": (False, "", "", False), "moves": (False, "count", "", False),
        "share": (False, "share", "", False), "connections": (False, "", "", False)}
    for c in KINDS.values():
        assert c.timed == (c.figure == "measured_s"), c.kind  # a time is the figure measured_s, and only a time
        assert c.timed or not c.timeline, c.kind  # the timeline's x axis is seconds


def test_charts_suite_summary_and_compare_read_the_same_attributes():
    """Which kinds are timed, what the timeline draws and which rows carry client figures:
    the spread chart, the repeat table, the timeline, the summary table and compare agree
    because they all ask the kind."""
    from matplotlib.figure import Figure

    from labs import compare

    from labs.report import charts
    from labs.analysis import suite, summary
    from labs.analysis.expectations import KINDS

    results = one_of_each()
    s = {"scenario": "x", "target": "lvs1", "verdict": "pass", "reason": "",
         "phases": [{"phase": "inject", "t": 100.0, "expectations": results, "clients": {VIP: CLIENTS}}]}
    timed = {k for k, c in KINDS.items() if c.timed}

    labels = [t.get_text() for t in charts.spread([s]).axes[0].get_yticklabels()]
    assert labels == [f"x@lvs1 inject: {e['what']}" for e in results if e["kind"] in timed]

    stats = {st["what"].split()[0]: st for st in suite.repeat_stats([s])}
    assert {k for k, st in stats.items() if "measured_s" in st} == timed
    assert {k: [f for f in st if f not in suite.NAMED] for k, st in stats.items()} == \
        {k: [f for f in (c.figure, "failed_requests" if c.client_figures else "") if f] for k, c in KINDS.items()}
    assert stats["moves"]["count"]["max"] == 3 and stats["share"]["share"]["max"] == 0.52
    table = suite.repeat_table(list(stats.values()))
    assert " 3 " in next(line for line in table.splitlines() if "moves of" in line)  # a count, as a whole number

    rows = {r[2].split()[0]: r for r in summary.rows(s)}
    assert {k for k, r in rows.items() if r[5]} == {k for k, c in KINDS.items() if c.client_figures}
    flat = {r["kind"]: r for r in summary.flat(s)}
    assert {k for k, r in flat.items() if r["requests"]} == {k for k, c in KINDS.items() if c.client_figures}

    figures = {what.split()[0]: f for (_, what), f in compare.figures(s).items() if what.endswith(VIP)}
    assert {k for k, f in figures.items() if f["shown"].endswith("s") and f["shown"][0].isdigit()} == timed
    assert (figures["stay"]["value"], figures["moves"]["value"], figures["share"]["shown"]) == (None, 3, "52%")

    ax, lane = Figure().subplots(), charts._Lane(2)
    charts._phases(ax, lane, s, VIP, 100.0)
    windows = len([label for label in lane.labels if "model " in label.text])
    bounds = len([label for label in lane.labels if "clients whole by" in label.text])
    assert (windows, bounds) == (sum(c.timeline == "window" for c in KINDS.values()),
                                 sum(c.timeline == "bound" for c in KINDS.values()))
