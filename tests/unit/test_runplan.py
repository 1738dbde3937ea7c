"""A command's plan is built once: its lab's spec (and a lab file's `keepalived
--config-test`) once per command, whichever path the command then takes; --list needs none
of the lab's runtime."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from labs import kernel, run
from labs.common import command
from labs.lab import jobs
from labs.spec import labfile
from labs.plan import runplan
from labs.daemons import keepalived
from labs.common.errors import LabError

ARTICLE = REPO / "examples" / "article" / "article.toml"


@pytest.fixture
def counted(monkeypatch):
    """How often the spec is built and keepalived checks a config, by config."""
    counts: dict[str, int] = {"choose_lab": 0}
    build, config_test = runplan.choose_lab, keepalived.config_test

    def counting_build(*a, **k):
        counts["choose_lab"] += 1
        return build(*a, **k)

    def counting_test(path, *a, **k):
        counts[str(path)] = counts.get(str(path), 0) + 1
        return config_test(path, *a, **k)

    monkeypatch.setattr(command, "choose_lab", counting_build)
    monkeypatch.setattr(keepalived, "config_test", counting_test)
    return counts


@pytest.mark.skipif(not Path(keepalived.Keepalived.binary).exists(), reason="keepalived is not installed (sudo ./setup.sh)")
def test_a_suite_builds_its_lab_and_checks_its_configs_once(counted, monkeypatch, tmp_path):
    """Through planning, the kernel's choice and the dealing of runs to jobs (which reads
    the model of the rendered configs): one spec, each config checked once."""
    dealt: list[list[float]] = []

    def deal(plan, n, drawings):  # everything jobs.run does before starting the jobs
        dealt.append(jobs.timings(plan.spec, plan.expanded)[0])
        return 0

    monkeypatch.setattr(kernel, "choose", lambda requested, ipvs=True: kernel.Choice("uml", "test"))
    monkeypatch.setattr(jobs, "_run_jobs", deal)
    monkeypatch.setattr(run.requirements, "check", lambda *a: None)
    argv = [str(ARTICLE), "--scenario", "stop_keepalived,link_down", "--repeat", "2", "--results", str(tmp_path)]
    assert run.main(argv) == 0
    assert len(dealt) == 1 and len(dealt[0]) == 4
    configs = {k: v for k, v in counted.items() if k != "choose_lab"}
    assert counted["choose_lab"] == 1
    assert len(configs) == len(labfile.load(ARTICLE, config_test=False).files) and set(configs.values()) == {1}


def test_check_builds_its_lab_once(counted, monkeypatch, tmp_path):
    """--check on the native path: the plan's spec goes to the lab; nothing rebuilds it."""
    seen = []
    monkeypatch.setattr(run.requirements, "check", lambda *a: None)
    monkeypatch.setattr(kernel, "dispatch", lambda *a, **k: ("native", "test"))
    monkeypatch.setattr(run, "with_lab", lambda plan, *a, **k: (seen.append(plan.spec), (True, tmp_path))[1])
    assert run.main(["dual_master", "--check", "--results", str(tmp_path)]) == 0
    assert counted["choose_lab"] == 1 and seen[0].name == "dual_master"


def test_a_plan_refuses_bad_counts_in_one_line():
    lab = runplan.choose_lab("dual_master")
    for kwargs, says in (({"repeat": 0}, "--repeat 0"), ({"jobs": 0}, "--jobs 0")):
        with pytest.raises(LabError, match=says):
            runplan.RunPlan(lab, Path("/tmp/r"), **kwargs)
    with pytest.raises(LabError, match="--rate and --timeout"):
        runplan.ProbeSettings(rate=0)
    with pytest.raises(LabError, match="NAME=VALUE"):
        runplan.parse_settings(["advert_int"])


def test_list_needs_none_of_the_labs_runtime():
    """--list reads topologies and scenarios only: it runs where pyroute2, Mininet and
    matplotlib cannot be imported (a fresh venv, a docs build)."""
    code = ("import sys\n"
            "class Refuse:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('pyroute2', 'mininet', 'matplotlib'):\n"
            "            raise ImportError(name)\n"
            "sys.meta_path.insert(0, Refuse())\n"
            "from labs import run\n"
            "sys.exit(run.main(['--list']))\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "link_down" in p.stdout and "dual_master" in p.stdout
