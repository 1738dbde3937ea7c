"""One lab for several scenario runs: a run that leaves debris makes the next run's lab a
fresh one, and the command says why."""
from __future__ import annotations

import re

import pytest

from lab.helpers import REPO, leftovers, load
from labs.lab import jobs
from labs.pytest_plugin import run_scenarios
from topologies import dual_master

pytestmark = pytest.mark.halab_lab


def test_debris_makes_the_next_lab_fresh(tmp_path):
    debris, after = run_scenarios(tmp_path, [str(REPO / "tests/lab/data/debris.py"), "stop_keepalived"],
                                  options=("--jobs", "1"))  # one after the other, on one lab
    out = debris.output
    assert "the lab is not healthy after debris" in out and "a netem qdisc on enp0s8" in out, out[-3000:]
    assert "2 lab(s) built for 2 run(s)" in out
    assert after.verdict == "pass", after.reason
    (suite,) = tmp_path.glob("*-suite")
    report = load(suite, "suite.json")
    assert (report["labs"], report["labs_built"]) == ("shared", 2)
    # each run's folder is complete on its own: its configs, its events from a snapshot
    for result in (debris, after):
        assert (result.folder / "configs" / "lvs1" / "keepalived.conf").exists()
        assert (result.folder / "logs" / "lvs1-keepalived.log").exists()
    first = load(after.folder, "run.json")
    assert first["lab"].endswith("-dual_master-lab") and first["converged_after_s"] > 0
    assert leftovers([h.name for h in dual_master.spec().hosts]) == []


def test_jobs_run_labs_side_by_side(tmp_path):
    """--jobs 2: two labs, each in its own User-mode Linux kernel, one suite as if one
    command had run both runs."""
    import subprocess

    from lab.helpers import command

    p = subprocess.run(command("dual_master", "--scenario", "stop_keepalived,link_down", "--jobs", "2", "--kernel", "uml",
                               "--results", str(tmp_path)), cwd=REPO, capture_output=True, text=True, timeout=900)
    print(p.stdout)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr
    # one run per job (which job gets which follows the model's planned lengths)
    assert p.stdout.count("=== [1/1] ") == 2 and "[job 1] === [1/1] " in p.stdout and "[job 2] === [1/1] " in p.stdout
    assert "=== [1/1] stop_keepalived" in p.stdout and "=== [1/1] link_down" in p.stdout
    # each job's kernel on its own host CPU, taken in turn (one CPU: both on it)
    cpus = re.findall(r"\[job (\d)\] kernel: uml \(.*\), on host CPU (\d+)", p.stdout)
    assert sorted((int(k), int(c)) for k, c in cpus) == [(k, jobs.cpu_of(k - 1)) for k in (1, 2)], cpus
    (suite,) = tmp_path.glob("*-suite")
    report = load(suite, "suite.json")
    assert (report["jobs"], report["labs_built"], report["verdicts"]) == (2, 2, ["pass", "pass"])
    for name in report["runs"]:
        assert load(tmp_path / name, "summary.json")["verdict"] == "pass"
    assert leftovers([h.name for h in dual_master.spec().hosts]) == []
