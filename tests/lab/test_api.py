"""The Python API's example (examples/api_tour.py) run top to bottom as a user runs it: a
scenario run and a fail/heal session on one lab, every verdict against the model."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lab.helpers import REPO, RUN_TIMEOUT, leftovers
from topologies import dual_master

pytestmark = pytest.mark.halab_lab


def test_the_api_tour_runs_top_to_bottom(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # a checkout, not installed: as docs/api.md says
    p = subprocess.run([sys.executable, "examples/api_tour.py", "--results", str(tmp_path)], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=RUN_TIMEOUT)
    print(p.stdout[-6000:], p.stderr[-3000:])
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert "verdicts: ['pass', 'pass', 'pass']" in p.stdout
    (run,) = [f for f in tmp_path.iterdir() if f.name.endswith("-stop_keepalived")]
    assert (run / "summary.json").exists() and (run / "timeline-from-the-api.png").stat().st_size > 10_000
    (session,) = [f for f in tmp_path.iterdir() if f.name.endswith("-steps")]
    assert (session / "expectations.json").exists()
    assert leftovers([h.name for h in dual_master.spec().hosts]) == []
