"""The command line: help, listing, and one-line errors for bad input."""
from __future__ import annotations

import subprocess
import sys

from conftest import REPO


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
