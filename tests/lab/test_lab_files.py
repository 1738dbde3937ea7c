"""A lab file runs: the LVS pair with three weighted nginx-only real servers, its configs as
written, nginx_down on a real server judged by the directors' checkers (it runs no VRRP)."""
from __future__ import annotations

import json

import pytest

from conftest import REPO
from labs import kaconf

pytestmark = pytest.mark.lab
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
    (vs,) = kaconf.parse(ran).all("virtual_server")
    assert [rs.value("weight") for rs in vs.all("real_server")] == ["3", "2", "1"]
