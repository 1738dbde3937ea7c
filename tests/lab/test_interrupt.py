"""Ctrl-C in the middle of bring-up: the run stops, says so, and leaves nothing behind."""
from __future__ import annotations

import signal
import subprocess

import pytest

from lab.helpers import REPO, command, leftovers, load
from topologies import dual_master

pytestmark = pytest.mark.lab


def test_ctrl_c_during_bring_up(tmp_path):
    proc = subprocess.Popen(command("dual_master", "--check", "--results", str(tmp_path)), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
    folders = [p for p in tmp_path.iterdir() if p.is_dir() and p.name != "latest"]
    assert len(folders) == 1 and load(folders[0], "run.json")["command"][-1] == str(tmp_path)
    assert leftovers([h.name for h in dual_master.spec().hosts]) == []
