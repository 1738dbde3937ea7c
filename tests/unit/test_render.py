"""What the templates produce for each host, read back with a keepalived-syntax parser."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from labs import kaconfig
from labs.daemons.keepalived import Keepalived
from labs.daemons.nginx import Nginx, SERVED_BY
from labs.lab.paths import RunPaths
from topologies import dual_master


@pytest.fixture
def rendered(tmp_path):
    spec = dual_master.spec()
    paths = RunPaths(tmp_path / "results", tmp_path / "run")
    daemons = {}
    for host in (*spec.directors, *spec.real_servers):
        ka = Keepalived(spec, host, paths)
        ka.render()
        daemons[host.name] = {"keepalived": ka}
        if host.role == "real_server":
            ng = Nginx(spec, host, paths)
            ng.render()
            daemons[host.name]["nginx"] = ng
    return spec, paths, daemons


def conf(daemon) -> kaconfig.Block:
    return kaconfig.read(daemon.config_file).tree


def test_router_ids_are_distinct(rendered):
    _, _, d = rendered
    ids = [conf(x["keepalived"]).one("global_defs").value("router_id") for x in d.values()]
    assert len(set(ids)) == len(ids) == 4


def test_instances_match_the_data(rendered):
    spec, _, d = rendered
    for inst in (*spec.director_instances, *spec.server_instances):
        for host in inst.hosts:
            block = next(b for b in conf(d[host]["keepalived"]).all("vrrp_instance") if b.args == [inst.name])
            assert block.value("virtual_router_id") == str(inst.vrid)
            assert block.value("priority") == str(inst.priority(host))
            assert block.value("state") == ("MASTER" if host == inst.master else "BACKUP")
            assert block.one("virtual_ipaddress").children[0].keyword == inst.vip
            assert block.value("interface") == "enp0s8"
            assert block.value("advert_int") == "1"


def test_lvs2_masters_vi_2(rendered):
    _, _, d = rendered
    vi2 = next(b for b in conf(d["lvs2"]["keepalived"]).all("vrrp_instance") if b.args == ["VI_2"])
    assert vi2.value("state") == "MASTER"


def test_virtual_servers_only_on_directors(rendered):
    spec, _, d = rendered
    for name, x in d.items():
        vss = conf(x["keepalived"]).all("virtual_server")
        if spec.host(name).role != "director":
            assert vss == []
            continue
        assert [(v.args[0], v.value("lb_algo")) for v in vss] == [("192.168.56.131", "wrr"), ("192.168.56.132", "rr")]
        for vs in vss:
            assert (vs.value("lb_kind"), vs.value("persistence_timeout"), vs.value("delay_loop")) == ("DR", "5", "6")
            reals = vs.all("real_server")
            assert [r.args for r in reals] == [["192.168.56.111", "80"], ["192.168.56.112", "80"]]
            for r in reals:
                check = r.one("TCP_CHECK")
                timers = (check.value("connect_timeout"), check.value("retry"), check.value("delay_before_retry"))
                assert timers == ("2", "2", "3")
                assert not check.all("nb_get_retry")


def test_server_check_script(rendered):
    spec, paths, d = rendered
    for host in spec.real_servers:
        ka = d[host.name]["keepalived"]
        root = conf(ka)
        script = root.one("vrrp_script")
        assert script.value("weight") == "-30"
        assert script.value("interval") == "3"
        # keepalived must not kill the script while it waits for nginx to come back
        assert float(script.value("timeout")) > spec.timers.restart_wait
        path = Path(script.value("script").strip('"'))
        assert path == ka.check_script and path.is_relative_to(paths.runtime)
        assert root.one("global_defs").all("enable_script_security")
        for inst in root.all("vrrp_instance"):
            assert inst.one("track_script").children[0].keyword == "check_nginx_alive"
        text = path.read_text()
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        assert not re.search(r"\b(pgrep|pkill|killall|systemctl|ps)\b", code)
        assert str(d[host.name]["nginx"].pid_file) in text and str(ka.pid_file) in text
        assert path.stat().st_mode & 0o022 == 0


def test_one_keyword_per_line(rendered):
    _, _, d = rendered
    for x in d.values():
        for line in x["keepalived"].config_file.read_text().splitlines():
            assert line.count("{") <= 1 and not re.search(r"\S\s*}\s*\S", line)


def test_nginx_paths_are_per_host(rendered):
    spec, paths, d = rendered
    for host in spec.real_servers:
        text = d[host.name]["nginx"].config_file.read_text()
        for m in re.finditer(r"^\s*(pid|error_log|access_log|\w+_temp_path|root)\s+(\S+?);?$", text, re.M):
            p = Path(m.group(2).rstrip(";"))
            assert p.is_relative_to(paths.results) or p.is_relative_to(paths.runtime / host.name), m.group(0)
        assert f"add_header {SERVED_BY} {host.name}" in text
        assert host.name in (paths.runtime / host.name / "html" / "index.html").read_text()


def test_reader_reports_unbalanced(tmp_path):
    conf = tmp_path / "k.conf"
    conf.write_text("global_defs {\n router_id x\n")
    assert "1 '}' missing" in str(kaconfig.read(conf).diagnostics.fatal[0])
