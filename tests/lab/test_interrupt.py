"""Stopping a run part-way: Ctrl-C during bring-up, a scenario and teardown, and a scenario
that raises. Each must tear down, keep what it recorded (analysable) and leave nothing.

The outer test (bring-up) interrupts the command a user types; the others run the lab's
native path in one kernel (inside UML, or natively) through tests/lab/driver.py, so the
runner's own teardown is what is checked, not UML's power-off."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lab.helpers import REPO, command, leftovers, load, run_folder as only_folder
from labs import kernel
from labs.kernel import uml
from topologies import dual_master

pytestmark = pytest.mark.halab_lab
HOSTS = [h.name for h in dual_master.spec().hosts]
DRIVER = Path(__file__).with_name("driver.py")
NOBODY = 65534


def in_kernel(run: list[str], at: str | None = None, sig: str = "SIGINT") -> dict:
    """Drive `labs.run RUN` in the kernel the lab uses; what the driver saw, as a dict."""
    argv = [sys.executable, str(DRIVER), *(["--at", at, "--signal", sig] if at else []), *run]
    if kernel.choose("auto").backend == "uml":
        out = io.StringIO()
        assert uml.run(argv, uml.host_cpu(), out=out) == 0, out.getvalue()[-3000:]
        text = out.getvalue()
    else:
        text = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=600).stdout
    (line,) = [x for x in text.splitlines() if x.startswith("@@driver@@")]
    seen = json.loads(line.removeprefix("@@driver@@"))
    print(seen["output"])
    assert seen["left"] == {"links": [], "mounts": [], "netns": [], "state_files": []}, seen["left"]
    assert seen["usage"]["namespaces"] == 0 and seen["usage"]["processes"] == 0, seen["usage"]
    assert leftovers(HOSTS) == []
    return seen


def analysable(folder: Path) -> str:
    p = subprocess.run([sys.executable, "-m", "labs.analyze", str(folder)], cwd=REPO, capture_output=True, text=True)
    assert p.returncode in (0, 1), p.stderr  # 1: a verdict of fail, still a full analysis
    return p.stdout


def test_ctrl_c_during_bring_up(tmp_path):
    """As a user presses it; a sudo user's results are theirs even though the run was cut short."""
    env = {**os.environ, "SUDO_UID": str(NOBODY), "SUDO_GID": str(NOBODY)} if os.geteuid() == 0 else None
    # Ctrl-C's default action, as in a terminal: a runner started in the background by a
    # non-interactive shell inherits SIGINT ignored, and the command would rightly keep it so
    proc = subprocess.Popen(command("dual_master", "--check", "--results", str(tmp_path)), cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if "network:" in line:  # hosts and bridge exist, daemons not yet started
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=120)
    out = "".join(seen) + rest
    assert proc.returncode == 130, out
    assert "interrupted" in out
    folder = only_folder(tmp_path)
    assert load(folder, "run.json")["command"][-1] == str(tmp_path)
    assert leftovers(HOSTS) == []
    if env:
        assert {p.stat().st_uid for p in (folder, *folder.rglob("*"))} == {NOBODY}


def test_ctrl_c_during_a_scenario(tmp_path):
    seen = in_kernel(["dual_master", "--scenario", "stop_keepalived", "--results", str(tmp_path)], at="heal;")
    assert seen["signalled"] and seen["exit"] == 130, seen["output"][-3000:]
    assert "torn down" in seen["output"] and "interrupted" in seen["output"]
    folder = only_folder(tmp_path)
    assert (folder / "probes.csv").read_text().count("\n") > 10, "the probes recorded before Ctrl-C are kept"
    assert "stop_keepalived@lvs1" in analysable(folder)


def test_ctrl_c_during_teardown_finishes_it_then_stops(tmp_path):
    seen = in_kernel(["dual_master", "--check", "--results", str(tmp_path)], at="tearing down")
    out = seen["output"]
    assert seen["signalled"] and seen["exit"] == 130, out[-3000:]
    assert "finishing the teardown first" in out and "torn down" in out
    assert load(only_folder(tmp_path), "status.json")["converged"] is True


def test_a_scenario_that_raises_is_one_line_and_a_kept_run(tmp_path):
    scenario = Path(__file__).with_name("data") / "raising.py"
    seen = in_kernel(["dual_master", "--scenario", str(scenario), "--results", str(tmp_path)])
    out = seen["output"]
    assert seen["exit"] == 1, out[-3000:]
    assert "Traceback" not in out
    (line,) = [x for x in out.splitlines() if "RuntimeError" in x]
    assert "raising failed: RuntimeError: a bug in the scenario" in line and "error.txt" in line
    folder = only_folder(tmp_path)
    assert "Traceback" in (folder / "error.txt").read_text()
    assert (folder / "probes.csv").read_text().count("\n") > 10
    assert "raising.py@lvs1  inject" in analysable(folder), "the fault it injected before raising is on record"
