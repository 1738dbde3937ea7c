"""The command line: help, listing, and one-line errors for bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO
from labs.common.jsonfile import SCHEMA_VERSION
from topologies import dual_master


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "labs.run", *args], cwd=REPO, capture_output=True, text=True, timeout=60)


def test_help():
    p = run("--help")
    assert p.returncode == 0
    for option in ("--list", "--check", "--kernel", "--results"):
        assert option in p.stdout


def test_list_names_topologies():
    p = run("--list")
    assert p.returncode == 0
    assert "dual_master" in p.stdout and "scenarios:" in p.stdout


def test_unknown_topology_is_one_line():
    p = run("nosuch")
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0
    assert "unknown topology 'nosuch'" in p.stderr and "dual_master" in p.stderr


def test_missing_topology():
    p = run()
    assert p.returncode == 2 and "name a topology" in p.stderr


def test_bad_kernel_choice():
    p = run("dual_master", "--kernel", "xen")
    assert p.returncode == 2 and "invalid choice" in p.stderr


def test_bad_values_are_one_line_errors():
    cases = {
        ("dual_master", "--scenario", "nope"): "unknown scenario 'nope'",
        ("dual_master", "--variant", "nope"): "unknown variant 'nope'",
        ("dual_master", "--scenario", "nginx_down", "--target", "lvs1"): "cannot target 'lvs1'",
        ("dual_master", "--repeat", "0"): "--repeat 0",
        ("dual_master", "--rate", "-5"): "must be positive",
        ("dual_master", "--timeout", "0"): "must be positive",
        ("dual_master", "--servers", "4"): "--servers works with: scale",
        ("scale", "--servers", "3"): "even number from 2 to 64",
        ("dual_master", "--scenario", "/nonexistent/fault.py"): "no scenario file /nonexistent/fault.py",
        ("dual_master", "--scenario", "labs/common/errors.py"): "lacks TARGETS, inject, heal, expect",
        ("dual_master", "--check", "--results", "/proc/version/x"): "--results /proc/version/x is under /proc",
        ("dual_master", "--check", "--scenario", "link_down"): "--check brings the lab up, prints its status and "
                                                               "tears it down: it runs no scenario, drop --scenario",
        ("dual_master", "--check", "--repeat", "3"): "drop --repeat",
        ("dual_master", "--cli", "--repeat", "2"): "--cli opens the interactive lab: it runs no scenario, drop --repeat",
        ("dual_master", "--cli", "--check"): "drop --check",
    }
    for args, message in cases.items():
        p = run(*args)
        assert p.returncode == 2, (args, p.stderr)
        assert message in p.stderr and p.stderr.strip().count("\n") == 0, (args, p.stderr)


def test_missing_program_names_its_package(monkeypatch):
    from labs.common import requirements
    from labs.daemons.nginx import Nginx
    from labs.common.errors import LabError

    monkeypatch.setitem(requirements.TOOLS, "/nonexistent/ipvsadm", "ipvsadm")
    monkeypatch.setattr(Nginx, "binary", "/nonexistent/nginx")  # a daemon's binary: from labs.daemons
    try:
        requirements.check()
    except LabError as e:
        assert "sudo apt-get install ipvsadm nginx" in str(e)
    else:
        raise AssertionError("a missing program went unnoticed")


def test_results_under_run_are_refused_on_the_uml_path():
    from labs.kernel import uml

    assert "does not share" in uml.results_problem(Path("/run/user/1000/results"))
    assert uml.results_problem(REPO / "results") is None


def test_jobs_split_the_runs_and_keep_the_users_options():
    from labs.lab import jobs

    runs = [("a", "lvs1"), ("b", "lvs1"), ("c", "server1"), ("d", "lvs2"), ("e", "lvs1")]
    # longest first, each to the least loaded job: a(70) | e(40) b(20) d(15), then c(10)
    # to a's (70 < 75); each job keeps the given order
    groups = jobs.split(runs, 2, [70, 20, 10, 15, 40])
    assert groups == [[("a", "lvs1"), ("c", "server1")], [("b", "lvs1"), ("d", "lvs2"), ("e", "lvs1")]]
    assert jobs.split(runs[:1], 4, [5]) == [[("a", "lvs1")]]
    argv = ["dual_master", "--jobs", "2", "--variant", "fast", "--scenario=a,b", "--repeat", "3", "--rate", "80"]
    assert jobs.job_argv(argv, [("a", "lvs1"), ("a", "lvs1")], Path("/tmp/p.json"), 1) == [
        "dual_master", "--variant", "fast", "--rate", "80", "--scenario", "a,a", "--kernel", "uml", "--jobs", "1",
        "--part", "/tmp/p.json", "--cpu", "1"]
    p = run("dual_master", "--jobs", "0")
    assert p.returncode == 2 and "--jobs 0" in p.stderr
    from labs.plan.runplan import RunPlan, choose_lab

    lab, five = choose_lab("dual_master"), (("kill_nginx", "server1"),) * 5
    assert jobs.count(RunPlan(lab, Path("/tmp/r"), five, part=Path("/tmp/p.json"), kernel="uml")) == 1  # never split again
    assert jobs.count(RunPlan(lab, Path("/tmp/r"), five[:2], jobs=3, kernel="uml")) == 2  # no more labs than runs


def test_jobs_share_the_cpus_this_process_may_use(monkeypatch):
    """By default two labs per CPU (at most four), each job's kernel on one CPU, the CPUs
    taken in turn from this process's affinity (not the machine's count: a container or
    taskset may allow fewer)."""
    from labs import kernel
    from labs.lab import jobs
    from labs.plan.runplan import RunPlan, choose_lab

    monkeypatch.setattr(kernel, "choose", lambda requested, ipvs=True: kernel.Choice("uml", "test"))
    lab = choose_lab("dual_master")
    ten, three = (RunPlan(lab, Path("/tmp/r"), (("kill_nginx", "server1"),) * n) for n in (10, 3))
    for allowed, labs, cpus in (({3}, 2, [3, 3]), ({2, 5}, 4, [2, 5, 2, 5]), (set(range(8)), 4, [0, 1, 2, 3])):
        monkeypatch.setattr(jobs.os, "sched_getaffinity", lambda pid, allowed=allowed: allowed)
        assert jobs.count(ten) == labs
        assert [jobs.cpu_of(k) for k in range(labs)] == cpus
    assert jobs.count(three) == 3  # no more labs than runs


def test_check_and_cli_plan_no_runs():
    """--check and --cli bring up the lab alone: nothing is dealt to labs side by side."""
    from labs import run as run_command

    for mode in ("--check", "--cli"):
        argv = ["dual_master", mode]
        assert run_command.plan_of(run_command.parse(argv), argv).runs == ()


def test_jobs_plan_from_the_model():
    """link_flap's flaps are inside its inject window (3 x 6 s down, 2 x 6 s up, then the
    preemption bound): the longest of the default set by far; kill_nginx has no heal phase.
    With persistence on, nginx_down (server1's address moves) and real_server_down (a
    checker removes a real server) may leave the clients on one server; link_down on lvs1
    moves a director's VIP only, and without persistence nothing pins."""
    from labs.lab import jobs
    from labs.plan import phases as plan

    spec = dual_master.spec()
    runs = [("link_flap", "lvs1"), ("kill_nginx", "server1"), ("stop_keepalived", "lvs1"), ("nginx_down", "server1"),
            ("real_server_down", "server1"), ("link_down", "server1")]
    seconds, repins = jobs.timings(spec, runs)
    seconds = dict(zip((name for name, _ in runs), seconds))
    fixed = plan.BASELINE + plan.AFTER + plan.SETTLE
    assert 30 + fixed < seconds["link_flap"] < 30 + 5 + fixed  # preemption: 3 adverts + skew (< 4 s)
    assert seconds["kill_nginx"] < seconds["stop_keepalived"] < seconds["link_flap"]
    assert repins == [False, False, False, True, True, True]
    assert jobs.timings(spec, [("link_down", "lvs1")])[1] == [False]
    assert jobs.timings(dual_master.spec("no_persistence"), runs)[1] == [False] * len(runs)
    # the pinning runs go one per job, each last in its job
    groups = jobs.split(runs, 2, list(seconds.values()), repins)
    assert sorted(sum(1 for r in g if r in runs[3:]) for g in groups) == [1, 2]
    for group in groups:
        flags = [runs.index(r) >= 3 for r in group]
        assert flags == sorted(flags), groups


def test_halab_lists_its_commands_and_runs_them_as_their_python_m_forms():
    p = subprocess.run([sys.executable, "-m", "labs.halab", "--help"], cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 0
    for name in ("run", "check", "cli", "list", "sweep", "analyze", "plot", "compare", "lint", "render", "bench", "status",
                 "clean"):
        assert f"  {name} " in p.stdout
    listed = subprocess.run([sys.executable, "-m", "labs.halab", "list"], cwd=REPO, capture_output=True, text=True)
    assert listed.returncode == 0 and listed.stdout == run("--list").stdout
    bad = subprocess.run([sys.executable, "-m", "labs.halab", "check", "nosuch"], cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown topology 'nosuch'" in bad.stderr
    status = subprocess.run([sys.executable, "-m", "labs.halab", "status", "--json"], cwd=REPO, capture_output=True,
                            text=True)
    assert status.returncode == 0 and json.loads(status.stdout)["schema_version"] == SCHEMA_VERSION


def test_list_json_parses():
    p = run("--list", "--json")
    doc = json.loads(p.stdout)
    assert p.returncode == 0 and doc["schema_version"] == SCHEMA_VERSION
    assert doc["scenarios"]["link_down"]["default_target"] == "lvs1" and "lvs1@bridge" in doc["scenarios"]["link_down"]["targets"]
    assert "no_garp_refresh" in doc["topologies"]["dual_master"]["variants"]


def test_bad_input_with_json_is_still_one_line_and_exit_2():
    p = run("dual_master", "--scenario", "nope", "--json")
    assert p.returncode == 2 and "unknown scenario 'nope'" in p.stderr and p.stderr.strip().count("\n") == 0
    assert json.loads(p.stdout)["exit"] == 2
