"""The Vagrantfile parses in both modes (nothing here can boot a VM: see the README)."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import REPO


@pytest.mark.parametrize("vms", ["", "1"])
def test_vagrant_validate(tmp_path, vms):
    if not shutil.which("vagrant"):
        pytest.skip("vagrant is not installed (apt-get install vagrant; .ci/run installs it)")
    env = {**os.environ, "HALAB_VMS": vms, "VAGRANT_DOTFILE_PATH": str(tmp_path / "dot"), "VAGRANT_HOME": str(tmp_path / "home")}
    p = subprocess.run(["vagrant", "validate", "--ignore-provider"], cwd=REPO, env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0 and "validated successfully" in p.stdout, p.stdout + p.stderr
    machines = ["client", "lvs1", "lvs2", "server1", "server2"] if vms else ["lab"]
    for name in machines:
        assert f"==> {name}:" in p.stdout
