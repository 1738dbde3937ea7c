"""A student without sudo: the whole lab through User-mode Linux as an ordinary user.

The test copies the package into a folder that user owns and runs the README's command
there as `nobody`; it needs root only to become that user."""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from lab.helpers import REPO, RUN_TIMEOUT, command, leftovers, load
from labs.kernel import uml

pytestmark = [pytest.mark.halab_lab, pytest.mark.root]
USER = "nobody"


@pytest.fixture
def checkout():
    if uml.problem():
        pytest.skip(f"User-mode Linux is not usable: {uml.problem()}")
    user = pwd.getpwnam(USER)
    home = Path(tempfile.mkdtemp(prefix="halab-user-", dir="/var/tmp"))
    try:
        for part in ("labs", "topologies", "scenarios"):
            shutil.copytree(REPO / part, home / part, ignore=shutil.ignore_patterns("__pycache__"))
        for path in (home, *home.rglob("*")):
            os.lchown(path, user.pw_uid, user.pw_gid)
        home.chmod(0o755)
        yield home, user
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_plain_user_runs_the_lab_through_uml(checkout):
    home, user = checkout
    proc = subprocess.Popen(
        ["runuser", "-u", USER, "--", "env", "-i", "PATH=/usr/bin:/bin:/usr/sbin:/sbin",
         *command("dual_master", "--check", python="/usr/bin/python3")],
        cwd=home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    out, _ = proc.communicate(timeout=RUN_TIMEOUT)
    print(out)
    assert proc.returncode == 0, out
    assert "kernel: uml (" in out and "needs root" in out
    folder = (home / "results" / "latest").resolve()
    assert load(folder, "status.json")["converged"] is True
    owners = {p.stat().st_uid for p in (folder, *folder.rglob("*"))}
    assert owners == {user.pw_uid}, "files written through hostfs belong to the user who ran UML"
    assert leftovers([]) == []
