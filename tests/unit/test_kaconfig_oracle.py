"""labs.kaconfig.oracle: keepalived 2.2.7's own dumps, read back.

The dumps under tests/data/kaconfig/dumps/ are keepalived's output, captured with the
oracle itself (`python -m labs.kaconfig.oracle --config-id high`) from the configs next to
them: `*.keepalived.data` and `*.keepalived_parent.data` natively (Linux 6.18),
`virtual_servers.keepalived_check.data` under User-mode Linux (the host kernel has no
IPVS, and the checker process exits without it).

Facts they show (keepalived 2.2.7, Debian's build):
- priority omitted: `Priority = 100`; `@high priority 170` with `-i high`: 170;
- `track_script { chk_nginx weight -35 }` overrides the script's weight -20 for that
  instance only; a sync group drops its members' weighted scripts (logged);
- `vrrp_script chk_oneline { script "/bin/true" interval 2 weight -30 }` on one line is the
  script `/usr/bin/true` with keepalived's defaults: interval 1 s, weight 0, rise 1, fall 1,
  timeout 0 — the rest of the `script` line is dropped without a word in the log;
- keepalived resolves the script's program (`/bin/true` dumps as `/usr/bin/true`).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from labs.daemons.keepalived import Keepalived
from labs.kaconfig import oracle
from labs.kaconfig.oracle import command_words, config_interfaces, parse_check_dump, parse_vrrp_dump

DUMPS = Path(__file__).resolve().parent.parent / "data" / "kaconfig" / "dumps"
TWO = DUMPS / "two_instances.conf"


def _dump(name: str) -> str:
    return (DUMPS / name).read_text()


def _by_name(items: list[dict], name: str) -> dict:
    return next(item for item in items if item["name"] == name)


# ---------------------------------------------------------------- VRRP process's dump

@pytest.fixture(scope="module")
def two() -> dict:
    return parse_vrrp_dump(_dump("two_instances.keepalived.data"))


def test_global_definitions(two: dict) -> None:
    g = two["global"]
    assert g["router_id"] == "ORACLE_TEST"
    assert g["vrrp_version"] == 2
    assert g["garp_refresh"] == 10  # vrrp_garp_master_refresh
    assert (g["garp_delay"], g["garp_repeat"], g["down_timer_adverts"]) == (5, 5, 3)
    assert g["default_interface"] == "eth0"
    assert g["script_security"] is False and g["script_uid_gid"] == "0:0"
    assert g["raw"]["VRRP IPv4 mcast group"] == "224.0.0.18"
    assert two["sections"] == ["Global definitions", "VRRP Topology", "VRRP Sockpool", "VRRP Scripts", "Interfaces"]


def test_instance_with_conditional_priority_and_overridden_weight(two: dict) -> None:
    vi1 = _by_name(two["instances"], "VI_1")
    assert vi1["vrid"] == 51 and vi1["version"] == 2 and vi1["interface"] == "eth0"
    assert vi1["priority"] == 170  # `@high priority 170`, dumped with -i high
    assert vi1["effective_priority"] == 180  # + track_interface eth1 weight 10 (up)
    assert vi1["advert_int"] == 1.0
    assert vi1["nopreempt"] is True and vi1["preempt_delay"] == 0.0
    assert vi1["vips"] == ["192.168.56.131/24", "192.168.56.133"]  # a /32 is dumped bare
    assert vi1["vip_details"][0] | {"raw": None} == {"address": "192.168.56.131/24", "dev": "eth0", "scope": "global",
                                                     "flags": [], "raw": None}
    assert vi1["track_scripts"] == [{"name": "chk_nginx", "weight": -35, "reverse": False},
                                    {"name": "chk_oneline", "weight": 0, "reverse": False}]
    assert vi1["track_interfaces"] == [{"name": "eth1", "weight": 10, "reverse": False}]
    assert vi1["sync_group"] is None and vi1["unicast"] is False and vi1["unicast_peers"] == []
    assert vi1["src_ip"] == "198.18.0.1" and vi1["src_ip_from_config"] is False
    assert vi1["mcast_address"] == "224.0.0.18"
    assert vi1["wantstate"] == "BACKUP" and vi1["auth_type"] == "none"


def test_instance_with_defaults_unicast_and_v3(two: dict) -> None:
    vi2 = _by_name(two["instances"], "VI_2")
    assert vi2["priority"] == 100  # omitted
    assert vi2["version"] == 3 and vi2["advert_int"] == 0.5  # `Advert interval = 500 milli-sec`
    assert vi2["preempt_delay"] == 3.0 and vi2["nopreempt"] is False
    assert vi2["unicast"] is True and vi2["unicast_peers"] == ["198.18.0.2"]
    assert vi2["unicast_peer_details"] == [{"address": "198.18.0.2", "min_ttl": 0, "max_ttl": 255}]
    assert vi2["src_ip"] == "198.18.0.1" and vi2["src_ip_from_config"] is True
    assert vi2["mcast_address"] is None
    assert vi2["vips"] == ["192.168.56.132/24"] and vi2["vip_details"][0]["dev"] == "eth1"
    assert vi2["track_scripts"] == [{"name": "chk_nginx", "weight": -20, "reverse": False}]  # the script's own
    assert vi2["check_unicast_src"] is False and vi2["unicast_ttl"] == 255


def test_scripts_and_the_one_line_block(two: dict) -> None:
    nginx = _by_name(two["scripts"], "chk_nginx")
    assert (nginx["interval"], nginx["timeout"], nginx["weight"], nginx["rise"], nginx["fall"]) == (2, 3, -20, 3, 2)
    assert nginx["command"] == "'/usr/bin/true'" and nginx["args"] == ["/usr/bin/true"]
    assert nginx["weight_reverse"] is False
    assert nginx["tracking"] == [{"name": "VI_1", "weight": -35, "reverse": False},
                                 {"name": "VI_2", "weight": -20, "reverse": False}]
    one = _by_name(two["scripts"], "chk_oneline")
    assert (one["interval"], one["timeout"], one["weight"], one["rise"], one["fall"]) == (1, 0, 0, 1, 1)
    assert one["args"] == ["/usr/bin/true"]


def test_interfaces_as_keepalived_saw_them(two: dict) -> None:
    eth1 = _by_name(two["interfaces"], "eth1")
    assert eth1["ipv4"] == "198.18.1.1"
    assert eth1["tracking"][0] == {"name": "VI_1", "weight": 10, "reverse": False}


def test_parent_dump_is_global_only() -> None:
    parent = parse_vrrp_dump(_dump("two_instances.keepalived_parent.data"))
    assert parent["sections"] == ["Global definitions"] and parent["instances"] == []
    assert parent["global"]["router_id"] == "ORACLE_TEST"
    assert parent["global"]["garp_lower_prio_delay"] == 4294967295  # unset in the parent's copy
    assert parent["global"]["default_interface"] is None  # the VRRP process alone dumps it


def test_sync_group() -> None:
    dump = parse_vrrp_dump(_dump("sync_group.keepalived.data"))
    assert [(g["name"], g["members"], g["tracking_weight"]) for g in dump["sync_groups"]] == [("G1", ["VI_A", "VI_B"], False)]
    assert [(i["name"], i["sync_group"], i["priority"]) for i in dump["instances"]] == [("VI_A", "G1", 150), ("VI_B", "G1", 100)]
    # "(VI_A) ignoring tracked script chk with weights due to SYNC group", then "script chk is not used"
    assert _by_name(dump["instances"], "VI_A")["track_scripts"] == [] and dump["scripts"] == []
    assert _by_name(dump["instances"], "VI_B")["vips"] == ["10.9.0.2/24"]


def test_unknown_lines_are_ignored(two: dict) -> None:
    text = _dump("two_instances.keepalived.data")
    extra = "   Virtual Router ID = 51\n   Some future field = 7\n   bare words\n"
    noisy = ("stray line before any section\n" + text.replace("   Virtual Router ID = 51\n", extra)
             + "------< Some future section >------\n whatever = 1\n")
    parsed = parse_vrrp_dump(noisy)
    vi1 = _by_name(parsed["instances"], "VI_1")
    assert vi1["vrid"] == 51 and vi1["priority"] == 170 and vi1["raw"]["Some future field"] == "7"
    assert parsed["sections"][-1] == "Some future section"
    assert [i["name"] for i in parsed["instances"]] == [i["name"] for i in two["instances"]]
    assert parse_vrrp_dump("")["instances"] == [] and parse_check_dump("")["virtual_servers"] == []


# ---------------------------------------------------------------- checker process's dump

@pytest.fixture(scope="module")
def check() -> dict:
    return parse_check_dump(_dump("virtual_servers.keepalived_check.data"))


def test_virtual_server_by_address(check: dict) -> None:
    assert check["global"]["router_id"] == "ORACLE_LVS"
    assert check["lvs_version"] == "1.2.1"
    assert [vs["kind"] for vs in check["virtual_servers"]] == ["address", "fwmark", "group"]
    vs = check["virtual_servers"][0]
    assert (vs["address"], vs["port"], vs["protocol"], vs["key"]) == ("192.168.56.131", 80, "TCP", "[192.168.56.131]:tcp:80")
    assert (vs["lb_algo"], vs["lb_kind"], vs["persistence_timeout"], vs["delay_loop"]) == ("wrr", "DR", 50, 3.0)
    assert vs["connect_timeout"] == 5.0 and vs["quorum"] == 1 and vs["hysteresis"] == 0
    assert vs["sorry_server"] == {"server": "[192.168.56.20]:tcp:80", "forwarding": "DR", "duplicates_rs": False,
                                  "inhibit_on_failure": False}
    assert vs["retry"] is None and vs["delay_before_retry"] is None  # not set on the VS
    rs1, rs2 = vs["real_servers"]
    assert (rs1["address"], rs1["port"], rs1["weight"], rs1["forwarding"]) == ("192.168.56.11", 80, 2, "DR")
    assert (rs2["address"], rs2["weight"], rs2["delay_loop"]) == ("192.168.56.12", 1, 3.0)


def test_checkers_of_each_real_server(check: dict) -> None:
    rs1, rs2 = check["virtual_servers"][0]["real_servers"]
    [tcp] = rs1["checkers"]
    assert tcp["type"] == "TCP_CHECK"
    assert (tcp["connect_timeout"], tcp["retry"], tcp["delay_before_retry"], tcp["delay_loop"]) == (2.0, 3, 1.0, 3.0)
    assert tcp["dest"] == "[192.168.56.11]:80"
    http, misc = rs2["checkers"]
    assert http["type"] == "HTTP_GET" and http["http_protocol"] == "1.0"
    assert (http["connect_timeout"], http["delay_loop"], http["retry"], http["delay_before_retry"]) == (4.0, 7.0, 1, 3.0)
    assert http["urls"] == [{"path": "/health", "digest": None, "status_codes": ["200-299"], "virtualhost": None,
                             "regex": None}]
    assert misc["type"] == "MISC_CHECK" and misc["args"] == ["/usr/bin/true", "arg1"] and misc["script_timeout"] == 5
    assert misc["retry"] == 0 and misc["delay_before_retry"] is None and misc["connect_timeout"] is None
    assert len(check["checkers"]) == 4


def test_fwmark_and_group_virtual_servers(check: dict) -> None:
    fwm, grp = check["virtual_servers"][1:]
    assert (fwm["fwmark"], fwm["key"], fwm["protocol"], fwm["lb_kind"], fwm["delay_loop"]) == (5, "FWM 5", "none", "NAT", 60.0)
    assert [(rs["address"], rs["port"], rs["checkers"]) for rs in fwm["real_servers"]] == [("10.0.0.5", 0, [])]
    assert (grp["group"], grp["key"], grp["lb_kind"], grp["lb_kind_detail"]) == ("WEB", "[WEB]:0", "TUN", "TUN, type = IPIP")
    assert [c["type"] for c in grp["real_servers"][0]["checkers"]] == ["TCP_CHECK"]
    [web] = check["virtual_server_groups"]
    assert web["name"] == "WEB" and web["ipv4"] is True and web["ipv6"] is False
    assert web["entries"] == [{"kind": "address", "address": "192.168.56.140", "port": 80},
                              {"kind": "range", "start": "192.168.56.141", "end": "192.168.56.143", "port": 80},
                              {"kind": "fwmark", "fwmark": 7, "family": None}]


# ---------------------------------------------------------------- helpers

def test_command_words() -> None:
    assert command_words("'/usr/bin/true' 'a b' 'c'") == ["/usr/bin/true", "a b", "c"]
    assert command_words(">/tmp/x") == [">/tmp/x"]  # a redirection-only command is dumped bare


def test_config_interfaces() -> None:
    assert config_interfaces(TWO.read_text()) == ["eth0", "eth1"]
    text = "vrrp_instance A {\n @high interface bond0 # comment\n track_interface {\n  eth3 weight 5\n  eth4\n }\n}\n"
    assert config_interfaces(text) == ["bond0", "eth3", "eth4"]


def test_needs_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(oracle.OracleError, match="needs root"):
        oracle.run_keepalived_dump(TWO, keepalived=Keepalived.binary)


# ---------------------------------------------------------------- keepalived itself

@pytest.mark.root
@pytest.mark.parametrize("config_id, vi1_priority", [("high", 170), ("low", 80), (None, 100)])
def test_keepalived_reports(config_id: str | None, vi1_priority: int) -> None:
    result, log = oracle.run_keepalived_dump(TWO, keepalived=Keepalived.binary, config_id=config_id)
    assert result["exit_status"] is None and result["processes"] == ["VRRP"], log
    assert "Startup complete" in log and "Printing VRRP data" in log
    assert set(result["dumps"]) == {"keepalived.data", "keepalived_parent.data"}
    vrrp = result["vrrp"]
    vi1 = _by_name(vrrp["instances"], "VI_1")
    vi2 = _by_name(vrrp["instances"], "VI_2")
    assert vi1["priority"] == vi1_priority  # `@high priority 170`, `@low priority 80`, neither: 100
    assert vi2["priority"] == 100  # omitted
    assert vi1["track_scripts"][0] == {"name": "chk_nginx", "weight": -35, "reverse": False}  # the line's weight
    assert vi2["track_scripts"][0]["weight"] == -20  # the script's
    one = _by_name(vrrp["scripts"], "chk_oneline")
    assert (one["interval"], one["weight"]) == (1, 0)  # the one-line block: defaults
    assert vi2["advert_int"] == 0.5 and vi2["unicast_peers"] == ["198.18.0.2"]
    assert result["parent"]["router_id"] == "ORACLE_TEST"
    assert result["interfaces"] == ["eth0", "eth1", "eth2", "eth3"]
    if config_id == "high":  # what was captured still holds
        stored = parse_vrrp_dump(_dump("two_instances.keepalived.data"))
        fields = ("name", "vrid", "priority", "advert_int", "vips", "track_scripts", "track_interfaces", "unicast_peers")
        assert [{k: i[k] for k in fields} for i in vrrp["instances"]] == [{k: i[k] for k in fields} for i in stored["instances"]]


@pytest.mark.root
def test_keepalived_refusing_a_config_is_an_answer(tmp_path: Path) -> None:
    bad = tmp_path / "bad.conf"
    bad.write_text("vrrp_instance A {\n  interface eth0\n  virtual_router_id 300\n}\n")
    result, log = oracle.run_keepalived_dump(bad, keepalived=Keepalived.binary)
    assert result["exit_status"] not in (None, 0) and result["vrrp"] is None
    assert "outside range [1, 255]" in log


@pytest.mark.skipif(not os.path.exists(Keepalived.binary), reason="keepalived is not installed")
def test_checker_dump_through_user_mode_linux(tmp_path: Path) -> None:
    """One UML boot for the batch (~3 s): the checker process runs where IPVS is."""
    from labs.kernel import uml

    if uml.problem():
        pytest.skip(uml.problem())
    if shutil.which("setpriv") is None or shutil.which("unshare") is None:
        pytest.skip("util-linux's setpriv and unshare are needed")
    out = tmp_path / "out"
    status = oracle.main(["--kernel", "uml", "--out", str(out), str(DUMPS / "virtual_servers.conf"), str(TWO)])
    assert status == 0, (out / "uml-boot.log").read_text() if (out / "uml-boot.log").exists() else ""
    vs_run = json.loads((out / "virtual_servers.json").read_text())["result"]
    assert vs_run["processes"] == ["Healthcheck"] and vs_run["checker_skipped"] is None
    [first, *_] = vs_run["check"]["virtual_servers"]
    assert (first["lb_algo"], first["lb_kind"], first["persistence_timeout"]) == ("wrr", "DR", 50)
    assert first["real_servers"][0]["checkers"][0]["connect_timeout"] == 2.0
    two_run = json.loads((out / "two_instances.json").read_text())["result"]
    assert _by_name(two_run["vrrp"]["instances"], "VI_2")["priority"] == 100
