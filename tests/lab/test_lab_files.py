"""A lab file runs: the LVS pair with three weighted nginx-only real servers, its configs as
written, nginx_down on a real server judged by the directors' checkers (it runs no VRRP)."""
from __future__ import annotations

import json

import pytest

from conftest import REPO
from labs import kaconfig

pytestmark = pytest.mark.halab_lab
EXAMPLE = REPO / "examples" / "lvs_three_servers" / "lvs_three_servers.toml"
VIP = "10.20.0.100"


def test_an_lvs_pair_from_a_lab_file_runs_its_configs_as_written(halab_run):
    result = halab_run("nginx_down", topology=str(EXAMPLE))
    assert result.verdict == "pass", result.reason
    inject = {e["kind"]: e for e in result.phase("inject")["expectations"]}
    down = inject["checker"]
    assert down["what"] == "10.20.0.11:80 DOWN on lvs1,lvs2" and down["verdict"] == "pass"
    # nothing listens once nginx is dead: each connect is refused at once, so the model's
    # earliest is retry x delay_before_retry = 1 x 1 s (not the timeouts of a silent server)
    assert down["model"]["earliest_s"] == pytest.approx(1.0)
    assert inject["clients"]["failed"] > 0 and not inject["clients"]["still_failing_at_end"]
    info = json.loads((result.folder / "run.json").read_text())
    changes = info["config_changes"]
    assert set(changes) == {"lvs1", "lvs2"}, "web1-3 run no keepalived: nothing of theirs to change"
    assert all(len(c) == 1 and c[0].startswith("notify_fifo ") for c in changes.values()), changes
    # the config that ran is the file as written plus that one line
    lab = result.folder.parent / info["lab"]
    ran = (lab / "configs" / "lvs1" / "keepalived.conf").read_text()
    original = (EXAMPLE.parent / "lvs1.conf").read_text()
    assert [ln for ln in ran.splitlines() if "notify_fifo" not in ln] == original.splitlines()
    (vs,) = kaconfig.read(lab / "configs" / "lvs1" / "keepalived.conf").tree.all("virtual_server")
    assert [rs.value("weight") for rs in vs.all("real_server")] == ["3", "2", "1"]


def test_a_lab_without_virtual_servers_runs_natively_as_root(halab_run):
    """The unicast pair has no directors, so it needs no IPVS: as root it runs on the host
    kernel even where that kernel has none (the first native runs of the lab: they found
    the ARP leak of the blackhole's fallback and the zombie nginx the check scripts missed)."""
    import os

    pair = REPO / "examples" / "unicast_pair" / "unicast_pair.toml"
    result = halab_run("nginx_down", topology=str(pair))
    assert result.verdict == "pass", result.reason
    moved = result.expectation("10.30.0.100")
    assert (moved["kind"], moved["to"]) == ("move", "web2")
    info = json.loads((result.folder / "run.json").read_text())
    if os.geteuid() == 0:
        assert info["kernel_backend"] == "native", info["kernel_reason"]
