"""Recorded cleanup and the run lock, on real namespaces and processes (needs root)."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from labs.common.errors import LabError
from labs.lab import netns, record

pytestmark = pytest.mark.root


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setattr(record, "STATE_ROOT", tmp_path)
    monkeypatch.setattr(record, "LOCK", tmp_path / "lock")
    monkeypatch.setattr(record, "RECORD", tmp_path / "record.json")
    return tmp_path


@pytest.fixture
def namespace():
    made = []

    def make(suffix: str) -> str:
        name = f"halab-test-{os.getpid()}-{suffix}"
        netns.pr_netns.create(name)
        made.append(name)
        return name

    before = netns.run_dir_state()
    yield make
    for name in made:
        if netns.named(name):
            netns.detach(name)
    netns.release_run_dir(*before)


def test_second_run_is_refused_with_the_holders_pid(state):
    first = record.Lock()
    first.acquire(state / "results-A")
    try:
        with pytest.raises(LabError, match=f"pid {os.getpid()}, results .*results-A"):
            record.Lock().acquire(state / "results-B")
    finally:
        first.release()
    again = record.Lock()
    again.acquire(state / "results-C")
    again.release()


def test_sweep_removes_only_what_was_recorded(state, namespace):
    ours, theirs = namespace("ours"), namespace("theirs")
    sleeper = subprocess.Popen(["nsenter", f"--net={netns.RUN_DIR / ours}", "sleep", "60"])
    bystander = subprocess.Popen(["nsenter", f"--net={netns.RUN_DIR / theirs}", "sleep", "60"])
    try:
        time.sleep(0.3)
        runtime = state / "run-1"
        runtime.mkdir()
        rec = record.Record(pid=1, results="r", runtime=str(runtime),
                            namespaces={ours: list(netns.named(ours)),
                                        # a name we once used, now someone else's namespace
                                        theirs: [0, 0]})
        rec.save()
        removed = record.sweep_stale()
        assert sleeper.wait(timeout=5) is not None
        assert netns.named(ours) is None and not runtime.exists()
        assert netns.named(theirs) is not None and bystander.poll() is None
        assert any(ours in line for line in removed) and not any(theirs in line for line in removed)
        assert not record.RECORD.exists()
    finally:
        for p in (sleeper, bystander):
            p.kill()
            p.wait()


def test_no_record_means_nothing_to_do(state):
    assert record.sweep_stale() == []
