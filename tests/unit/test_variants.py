"""Variants render the seed's mistakes (and the fast tuning) into the files keepalived reads."""
from __future__ import annotations

import pytest

from labs import kaconfig
from labs.daemons.keepalived import Keepalived
from labs.common.errors import LabError
from labs.lab.paths import RunPaths
from topologies import dual_master


def render(tmp_path, variant):
    spec = dual_master.spec(variant)
    paths = RunPaths(tmp_path / "results", tmp_path / "run")
    out = {}
    for host in (*spec.directors, *spec.real_servers):
        d = Keepalived(spec, host, paths)
        d.render()
        out[host.name] = d
    return spec, out


def test_seed_variant_brings_back_every_mistake(tmp_path):
    spec, d = render(tmp_path, "seed")
    conf = {h: kaconfig.read(x.config_file).tree for h, x in d.items()}
    assert conf["lvs1"].one("global_defs").value("router_id") == conf["lvs2"].one("global_defs").value("router_id") == "keep_101"
    assert {i.value("state") for i in conf["lvs2"].all("vrrp_instance")} == {"BACKUP"}
    vrids = {h: sorted(i.value("virtual_router_id") for i in c.all("vrrp_instance")) for h, c in conf.items()}
    assert vrids["lvs1"] == vrids["server1"] == ["51", "52"]
    assert conf["server1"].one("vrrp_script").value("weight") == "1"
    assert "nb_get_retry" in d["lvs1"].config_file.read_text()
    assert not spec.arp_sysctls and spec.config_errors_ok


def test_weight_plus1_check_only_reports(tmp_path):
    _, d = render(tmp_path, "weight_plus1")
    script = d["server1"].check_script.read_text()
    assert "kill -TERM" not in script and "exit 1" in script


def test_fast_variant_is_vrrp3_without_auth(tmp_path):
    _, d = render(tmp_path, "fast")
    conf = kaconfig.read(d["lvs1"].config_file).tree
    assert conf.one("global_defs").value("vrrp_version") == "3"
    for inst in conf.all("vrrp_instance"):
        assert inst.value("advert_int") == "0.2" and not inst.all("authentication")


def test_no_persistence_drops_the_keyword(tmp_path):
    _, d = render(tmp_path, "no_persistence")
    for vs in kaconfig.read(d["lvs1"].config_file).tree.all("virtual_server"):
        assert not vs.all("persistence_timeout")


def test_unknown_variant():
    with pytest.raises(LabError, match="unknown variant 'x'.*seed"):
        dual_master.spec("x")


@pytest.mark.parametrize("variant", list(dual_master.VARIANTS))
def test_every_variant_is_consistent(variant):
    dual_master.spec(variant).validate()


def test_unicast_variant_names_each_peer_and_the_model_sees_it(tmp_path):
    from labs.analysis import model

    spec, d = render(tmp_path, "unicast")
    for host, daemon in d.items():
        for inst in kaconfig.read(daemon.config_file).tree.all("vrrp_instance"):
            assert inst.value("unicast_src_ip") == spec.host(host).ip
            peers = [c.keyword for c in inst.one("unicast_peer").children]
            assert peers and spec.host(host).ip not in peers
    m = model.load(tmp_path / "results", {})
    assert all(i.unicast for i in m.instances.values())


def test_corrected_lab_refreshes_garps_and_the_seed_does_not(tmp_path):
    _, d = render(tmp_path / "a", "default")
    assert kaconfig.read(d["lvs1"].config_file).tree.one("global_defs").value("vrrp_garp_master_refresh") == "1"
    _, d = render(tmp_path / "b", "seed")
    assert not kaconfig.read(d["lvs1"].config_file).tree.one("global_defs").all("vrrp_garp_master_refresh")
