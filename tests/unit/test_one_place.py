"""Each decision made in one place: the programs' paths, the DR ARP sysctls and the
sysctl.conf record, the rendering of a lab's files, the probes' defaults. Each test asks
the places that use a decision whether they take it from its one owner."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from conftest import REPO
from labs import requirements, results
from labs.daemons import CLASSES
from labs.daemons.keepalived import Keepalived, config_test_command
from labs.daemons.nginx import Nginx
from labs.kaconfig import oracle


def test_each_program_path_is_written_once():
    """A program's path is a string in one module: the daemon class that runs it, or
    labs.requirements for the other tools."""
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

    from labs import lint, sysctls
    from topologies import dual_master

    spec = dual_master.spec()
    server = spec.role("real_server")[0]
    assert {k: v for k, v in sysctls.of_host(spec, server).items() if k.startswith("net.ipv4.conf.all.")} == \
        {f"net.ipv4.conf.all.{key}": str(value) for key, value in sysctls.DR_ARP}
    assert sysctls.read(sysctls.record(spec, server)) == sysctls.of_host(spec, server)
    files, addresses = lint.render_spec(spec, tmp_path / "on")
    assert not [f for f in lint.check(lint.load_files(files, addresses)) if f.check == "dr-arp"]
    files, addresses = lint.render_spec(dataclasses.replace(spec, arp_sysctls=False), tmp_path / "off")
    found = [f.message for f in lint.check(lint.load_files(files, addresses)) if f.check == "dr-arp"]
    assert found and all(f"net.ipv4.conf.all.{key}={value}" in m for m in found for key, value in sysctls.DR_ARP), found


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
    from labs import bench_lab, experiment
    from labs import run as run_command
    from labs.analysis import connections
    from labs.analysis.data import Run
    from labs.analysis.expectations import LATENCY
    from labs.probes import connections as connection_probe
    from labs.probes import http
    from scenarios import director_failover

    args = run_command.parse(["dual_master"])
    assert (args.rate, args.timeout) == (http.RATE, http.TIMEOUT)
    assert (experiment.ProbeSettings().rate, experiment.ProbeSettings().timeout) == (http.RATE, http.TIMEOUT)
    assert bench_lab.RATE is http.RATE
    assert experiment.ConnectionProbeProcess(None, director_failover, Path(".")).interval == connection_probe.INTERVAL
    unrecorded = Run(Path("."), {}, [], [])
    recorded = Run(Path("."), {}, [{"t": 0.0, "kind": "connections_probe", "action": "start", "interval": 0.5}], [])
    assert connections.stall_s(unrecorded) == connection_probe.INTERVAL + 2 * LATENCY == 0.6
    assert connections.stall_s(recorded) == 0.5 + 2 * LATENCY
