"""Scenario targets follow from the lab's host roles: dual_master's are what they always were,
a lab with other host names gets targets named after its hosts."""
from __future__ import annotations

import dataclasses

import pytest

from labs import run

from labs.plan import scenario
from labs.common.errors import LabError
from labs.plan.runplan import LabChoice
from labs.plan.scenario import Scenario
from labs.spec import Host
from labs.plan.targets import ByRole
from scenarios import lossy_link
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
    assert sorted(DUAL_MASTER) == scenario.names()


@pytest.mark.parametrize("name", sorted(DUAL_MASTER))
def test_dual_master_targets_are_unchanged(name):
    loaded, spec = scenario.load(name), dual_master.spec()
    assert (loaded.targets(spec), loaded.default_target(spec)) == DUAL_MASTER[name]


def test_the_built_in_scenarios_take_their_targets_from_roles():
    # (each loads: the loader refuses a DEFAULT_TARGET beside a ByRole)
    fixed = {n for n in scenario.names() if not isinstance(scenario.load(n).rule, ByRole)}
    assert fixed == {"multicast_blocked"}  # tiers, not hosts


def test_another_lab_gets_targets_named_after_its_hosts():
    spec = renamed_lab()
    link_down, lossy, kill = (scenario.load(n) for n in ("link_down", "lossy_link", "kill_nginx"))
    # roles in the scenario's order (directors first), each role's hosts in the spec's order
    assert link_down.targets(spec) == ("dir-a", "dir-b", "web1", "web2",
                                       "dir-a@bridge", "dir-b@bridge", "web1@bridge", "web2@bridge")
    assert link_down.default_target(spec) == "dir-a"
    assert lossy.targets(spec)[:7] == ("dir-a", "dir-b", "web1", "web2", "dir-a:5%", "dir-a:20%", "dir-a:50%")
    assert lossy.default_target(spec) == "dir-a:20%"
    assert lossy_link.parse("web2:50%") == ("web2", 0.5)
    assert (kill.targets(spec), kill.default_target(spec)) == (("web1", "web2"), "web1")
    assert scenario.load("persistence").default_target(spec) == "user"


def test_by_role_on_a_lab_of_more_hosts():
    server3 = Host("server3", "192.168.56.103", "real_server")
    spec = dataclasses.replace(dual_master.spec(), hosts=(*dual_master.spec().hosts, server3))
    assert ByRole(("real_server",), ("", "!")).targets(spec) == ("server1", "server2", "server3",
                                                                 "server1!", "server2!", "server3!")


def test_a_fixed_list_is_returned_as_declared():
    mine = Scenario(name="mine", source="mine.py", summary="", rule=("lvs2", "nosuch"), default="nosuch",
                    inject=lambda lab, target: None, heal=None, expect=lambda model, target: [])
    for spec in (dual_master.spec(), renamed_lab()):
        assert mine.targets(spec) == ("lvs2", "nosuch")
        assert mine.default_target(spec) == "nosuch"


def test_a_lab_without_the_role_is_one_line():
    spec = dataclasses.replace(dual_master.spec(), hosts=dual_master.spec().directors)
    with pytest.raises(LabError, match="no real_server host"):
        scenario.load("kill_nginx").default_target(spec)


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
