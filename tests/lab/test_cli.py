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

pytestmark = pytest.mark.lab
PROMPT = "halab> "


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
    child = pexpect.spawn(sys.executable, ["-m", "labs.run", "dual_master", "--cli", "--results", str(tmp_path)],
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
        run("probe start", "probing")
        time.sleep(2)
        run("fail stop_keepalived lvs1", "injected stop_keepalived on lvs1")
        time.sleep(2)  # > lvs2's skew time
        run("lvs2 ip -br addr show enp0s8", r"192\.168\.56\.131")
        run("heal", "healed stop_keepalived")
        time.sleep(5)  # > lvs1's preemption
        run("probe stop", "probe stopped")
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
    assert [p["phase"] for p in summary["phases"]] == ["inject", "heal"]
    assert summary["phases"][0]["clients"]["192.168.56.131"]["failed"] > 0, "the probe saw the graceful failover"
    assert (folder / "report.html").exists()
    assert leftovers([h.name for h in dual_master.spec().hosts]) == []
