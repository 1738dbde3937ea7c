"""Results of a sudo run belong to the user who typed sudo, and nothing that was there before
changes owner (needs root to chown)."""
from __future__ import annotations

import os

import pytest

from labs.common import results

pytestmark = pytest.mark.root
NOBODY = 65534


@pytest.fixture
def as_sudo(monkeypatch):
    monkeypatch.setenv("SUDO_UID", str(NOBODY))
    monkeypatch.setenv("SUDO_GID", str(NOBODY))


def test_a_finished_run_belongs_to_the_sudo_user(tmp_path, as_sudo):
    root = tmp_path / "results"
    folder = results.new_folder(root, "dual_master", "check")
    (folder / "logs").mkdir()
    (folder / "logs" / "lvs1.log").write_text("x")
    results.finish(folder)
    made = [root, root / results.MADE_BY_HALAB, root / "latest", folder, folder / "logs", folder / "logs" / "lvs1.log"]
    assert [os.lstat(p).st_uid for p in made] == [NOBODY] * len(made)
    assert os.stat(tmp_path).st_uid == 0, "a folder that existed before the run keeps its owner"


def test_an_existing_results_root_keeps_its_owner(tmp_path, as_sudo):
    folder = results.new_folder(tmp_path, "dual_master", "check")
    results.finish(folder, latest=False)
    assert os.stat(folder).st_uid == NOBODY and os.stat(tmp_path).st_uid == 0


def test_without_sudo_nothing_changes_owner(tmp_path, monkeypatch):
    monkeypatch.delenv("SUDO_UID", raising=False)
    folder = results.new_folder(tmp_path / "r", "dual_master", "check")
    results.finish(folder)
    assert os.stat(folder).st_uid == os.geteuid()


def test_a_results_folder_the_user_cannot_write_is_refused_before_any_work(tmp_path):
    import subprocess
    import sys

    from conftest import REPO

    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    os.chmod(tmp_path, 0o755)
    p = subprocess.run([sys.executable, "-m", "labs.run", "dual_master", "--check", "--results", str(locked / "r")],
                       cwd=REPO, capture_output=True, text=True, user=NOBODY, group=NOBODY, timeout=60)
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and f"cannot write --results {locked / 'r'}" in p.stderr
    assert "kernel:" not in p.stdout, "refused before choosing a kernel or building anything"
