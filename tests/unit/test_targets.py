"""Scenario targets follow from the lab's host roles: dual_master's are what they always were,
a lab with other host names gets targets named after its hosts."""
from __future__ import annotations

import dataclasses
from types import ModuleType

import pytest

import scenarios
from labs import run, targets
from labs.errors import LabError
from labs.runplan import LabChoice
from labs.spec import Host
from labs.targets import ByRole
from topologies import dual_master

HOSTS = ("lvs1", "lvs2", "server1", "server2")
SERVERS = ("server1", "server2")
BRIDGE = (*HOSTS, "lvs1@bridge", "lvs2@bridge", "server1@bridge", "server2@bridge")
LOSSY = (*HOSTS, "lvs1:5%", "lvs1:20%", "lvs1:50%", "lvs2:5%", "lvs2:20%", "lvs2:50%",
         "server1:5%", "server1:20%", "server1:50%", "server2:5%", "server2:20%", "server2:50%")
# The targets and defaults the scenarios declared as constants before ByRole: the contract
# for dual_master (results, CI jobs and users' commands name them).
DUAL_MASTER = {
    "blackhole": (HOSTS, "lvs1"),
    "crash_keepalived": (HOSTS, "lvs1"),
    "director_failover": (("lvs1", "lvs2", "lvs1:crash", "lvs1:link", "lvs2:crash", "lvs2:link"), "lvs1"),
    "kill_nginx": (SERVERS, "server1"),
    "link_down": (BRIDGE, "lvs1"),
    "link_flap": (BRIDGE, "lvs1"),
    "lossy_link": (LOSSY, "lvs1:20%"),
    "multicast_blocked": (("lvs", "servers", "all"), "lvs"),
    "nginx_down": (SERVERS, "server1"),
    "persistence": (("client",), "client"),
    "real_server_down": (SERVERS, "server1"),
    "split_brain": (HOSTS, "lvs1"),
    "stop_keepalived": (HOSTS, "lvs1"),
}
RENAMED = {"lvs1": "dir-a", "lvs2": "dir-b", "server1": "web1", "server2": "web2", "client": "user"}


def renamed_lab():
    """dual_master with other host names, its real servers declared before its directors."""
    spec = dual_master.spec()
    hosts = tuple(dataclasses.replace(h, name=RENAMED[h.name]) for h in spec.hosts)
    return dataclasses.replace(spec, name="mine", hosts=(*hosts[2:4], *hosts[:2], hosts[4]))


def test_every_scenario_is_in_the_contract():
    assert sorted(DUAL_MASTER) == scenarios.names()


@pytest.mark.parametrize("name", sorted(DUAL_MASTER))
def test_dual_master_targets_are_unchanged(name):
    module, spec = scenarios.load(name), dual_master.spec()
    assert (targets.of(module, spec), targets.default(module, spec)) == DUAL_MASTER[name]


def test_the_built_in_scenarios_take_their_targets_from_roles():
    fixed = {n for n in scenarios.names() if not targets.by_role(scenarios.load(n))}
    assert fixed == {"multicast_blocked"}  # tiers, not hosts
    assert not any(hasattr(scenarios.load(n), "DEFAULT_TARGET") for n in scenarios.names() if n not in fixed)


def test_another_lab_gets_targets_named_after_its_hosts():
    spec = renamed_lab()
    link_down, lossy, kill = (scenarios.load(n) for n in ("link_down", "lossy_link", "kill_nginx"))
    # roles in the scenario's order (directors first), each role's hosts in the spec's order
    assert targets.of(link_down, spec) == ("dir-a", "dir-b", "web1", "web2",
                                           "dir-a@bridge", "dir-b@bridge", "web1@bridge", "web2@bridge")
    assert targets.default(link_down, spec) == "dir-a"
    assert targets.of(lossy, spec)[:7] == ("dir-a", "dir-b", "web1", "web2", "dir-a:5%", "dir-a:20%", "dir-a:50%")
    assert targets.default(lossy, spec) == "dir-a:20%"
    assert scenarios.load("lossy_link").parse("web2:50%") == ("web2", 0.5)
    assert (targets.of(kill, spec), targets.default(kill, spec)) == (("web1", "web2"), "web1")
    assert targets.default(scenarios.load("persistence"), spec) == "user"


def test_by_role_on_a_lab_of_more_hosts():
    server3 = Host("server3", "192.168.56.103", "real_server")
    spec = dataclasses.replace(dual_master.spec(), hosts=(*dual_master.spec().hosts, server3))
    assert ByRole(("real_server",), ("", "!")).targets(spec) == ("server1", "server2", "server3",
                                                                 "server1!", "server2!", "server3!")


def user_scenario(**attributes: object) -> ModuleType:
    module = ModuleType("halab_user_scenario_mine")
    module.__dict__.update(attributes)
    return module


def test_a_fixed_list_is_returned_as_declared():
    module = user_scenario(TARGETS=("lvs2", "nosuch"), DEFAULT_TARGET="nosuch")
    for spec in (dual_master.spec(), renamed_lab()):
        assert targets.of(module, spec) == ("lvs2", "nosuch")
        assert targets.default(module, spec) == "nosuch"


def test_a_by_role_default_is_not_named_again():
    module = user_scenario(TARGETS=ByRole(("director",)), DEFAULT_TARGET="lvs2")
    with pytest.raises(LabError, match="drop DEFAULT_TARGET"):
        targets.default(module, dual_master.spec())


def test_a_lab_without_the_role_is_one_line():
    spec = dataclasses.replace(dual_master.spec(), hosts=dual_master.spec().directors)
    with pytest.raises(LabError, match="no real_server host"):
        targets.default(scenarios.load("kill_nginx"), spec)


def test_plan_checks_the_target_against_the_labs_hosts(monkeypatch):
    args = run.parse(["dual_master", "--scenario", "nginx_down", "--target", "lvs1"])
    with pytest.raises(LabError, match=r"^scenario nginx_down cannot target 'lvs1'; choose one of server1, server2 "):
        run.plan_of(args, [])
    monkeypatch.setattr(run, "lab_of", lambda args: LabChoice("dual_master", "default", {}, {}, renamed_lab()))
    with pytest.raises(LabError, match="choose one of web1, web2 "):
        run.plan_of(run.parse(["dual_master", "--scenario", "nginx_down", "--target", "server1"]), []).runs
    planned = run.plan_of(run.parse(["dual_master", "--scenario", "link_down,nginx_down"]), []).runs
    assert planned == (("link_down", "dir-a"), ("nginx_down", "web1"))


def test_plan_asks_a_fixed_list_for_its_default(tmp_path):
    mine = tmp_path / "mine.py"
    mine.write_text('TARGETS = ("lvs1",)\nheal = None\n\n\ndef inject(lab, target):\n    pass\n\n\n'
                    'def expect(model, target):\n    return []\n')
    with pytest.raises(LabError, match="lacks DEFAULT_TARGET;"):
        run.plan_of(run.parse(["dual_master", "--scenario", str(mine)]), []).runs
    mine.write_text(mine.read_text() + 'DEFAULT_TARGET = "lvs1"\n')
    assert run.plan_of(run.parse(["dual_master", "--scenario", str(mine)]), []).runs == ((str(mine), "lvs1"),)


def test_list_names_the_lab_its_targets_are_for():
    spec = renamed_lab()
    assert "(targets: web1, web2)" in run.list_all(spec)
    doc = run.catalogue(spec)
    assert doc["targets_on"] == "mine" and doc["scenarios"]["stop_keepalived"]["default_target"] == "dir-a"
