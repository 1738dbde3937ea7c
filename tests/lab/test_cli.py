"""The interactive lab, driven with pexpect as Mininet tests its own CLI."""
from __future__ import annotations

import io
import json
import sys
import time

import pexpect
import pytest

from lab.helpers import REPO, leftovers
from topologies import dual_master

pytestmark = pytest.mark.halab_lab
PROMPT = "halab (probing)> "  # the probe runs from the start


class Tee:
    """pexpect's log going to the test's output and to a buffer the test reads."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text):
        for s in self.streams:
            s.write(text)

    def flush(self):
        for s in self.streams:
            s.flush()


def test_cli_session(tmp_path):
    """Exercise 1b with the directors waiting for their checkers (--variant ready_checkers):
    fail, look, heal, plot; both steps pass."""
    child = pexpect.spawn(sys.executable, ["-m", "labs.run", "dual_master", "--cli", "--variant", "ready_checkers",
                                           "--results", str(tmp_path)],
                          cwd=str(REPO), encoding="utf-8", timeout=240, dimensions=(50, 200))
    seen = io.StringIO()
    child.logfile_read = Tee(sys.stdout, seen)
    try:
        child.expect_exact(PROMPT)

        def run(command: str, *expected: str, timeout: float = 60) -> str:
            child.sendline(command)
            for text in expected:
                child.expect(text, timeout=timeout)
            child.expect_exact(PROMPT, timeout=timeout)
            return child.before

        run("status", r"VI_1\s+51\s+192\.168\.56\.131\s+lvs1=MASTER")
        run("lvs1 ipvsadm -Ln", r"192\.168\.56\.131:80", r"192\.168\.56\.111:80")
        run("client curl -s 192.168.56.131", "Served by server[12]")
        run("fail link", "usage: fail SCENARIO", r"link_down\s+lvs1 \(default\), lvs2")
        run("help", r"fail SCENARIO \[TARGET\]", "e.g. fail link_down lvs1")
        run("fail link_down lvs1", "injected link_down on lvs1", r"inject: PASS", timeout=60)
        run("lvs2 ip -br addr show enp0s8", r"192\.168\.56\.131")
        run("heal", "healed link_down", r"heal: PASS", timeout=60)
        run("plot", r"drawn: \S+timeline\.png and \S+report\.html")
        child.sendline("exit")
        child.expect(pexpect.EOF, timeout=120)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    # a quiet console: the User-mode Linux kernel's boot messages went to a log, not to the user
    for noise in ("SELinux", "mmapper_init", "ubd device", "/dev/shm"):
        assert noise not in seen.getvalue(), noise
    if "kernel: uml" in seen.getvalue():
        assert (tmp_path / "uml-boot.log").stat().st_size > 0
    folder = (tmp_path / "latest").resolve()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["steps"] == [{"n": 1, "scenario": "link_down", "target": "lvs1"}]
    assert [p["phase"] for p in summary["phases"]] == ["inject", "heal"]
    assert summary["phases"][0]["clients"]["192.168.56.131"]["failed"] > 0, "the probe ran from the start"
    # what the timeline draws for .131: the move with its model window (from the summary it is drawn from)
    moved = next(e for e in summary["phases"][0]["expectations"] if e["kind"] == "move")
    assert moved["verdict"] == "pass" and moved["model"]["earliest_s"] <= moved["measured_s"] <= moved["model"]["latest_s"]
    svg = (folder / "timeline.svg").read_text()
    assert "interactive session: link_down on lvs1: PASS" in svg and "lvs2: add" in svg
    assert f"(model {moved['model']['earliest_s']:.2f}-{moved['model']['latest_s']:.2f} s)" in svg  # the move's label
    assert "None on None" not in svg
    assert (folder / "report.html").exists()
    assert leftovers([h.name for h in dual_master.spec().hosts]) == []


def test_a_director_back_too_soon_fails_the_heal_naming_the_trap(tmp_path):
    """Exercise 1b on the default lab, the participant looking around for 20 s before
    `heal`: lvs1's link was down for longer than its checkers take to remove its real
    servers (6 s), so it may preempt before they are back: the heal fails, whatever their
    phase did this time, and says why and what fixes it."""
    child = pexpect.spawn(sys.executable, ["-m", "labs.run", "dual_master", "--cli", "--results", str(tmp_path)],
                          cwd=str(REPO), encoding="utf-8", timeout=240, dimensions=(50, 400))
    child.logfile_read = sys.stdout
    try:
        child.expect_exact(PROMPT)
        child.sendline("fail link_down lvs1")
        child.expect(r"inject: PASS", timeout=60)
        child.expect_exact(PROMPT)
        child.sendline("status")
        child.expect_exact(PROMPT, timeout=60)
        time.sleep(12)  # with the inject's judging (5.9 s) and the status: ~20 s of fault
        child.sendline("heal")
        child.expect(r"heal: FAIL — lvs1 can take 192\.168\.56\.131 back .* before its checkers re-add the real servers",
                     timeout=60)
        child.expect(r"empty IPVS table.*fix: preempt_delay of at least .*ready_checkers", timeout=10)
        child.expect_exact(PROMPT)
        child.sendline("exit")
        child.expect(pexpect.EOF, timeout=120)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
