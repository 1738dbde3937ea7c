"""The dual_master data: the seed's addressing, with the seed's mistakes corrected."""
from __future__ import annotations

import dataclasses

import pytest

from labs.spec import Host, VrrpInstance
from topologies import dual_master


@pytest.fixture
def spec():
    return dual_master.spec()


def test_seed_addresses(spec):
    assert {h.name: h.ip for h in spec.hosts} == {
        "lvs1": "192.168.56.121", "lvs2": "192.168.56.122",
        "server1": "192.168.56.101", "server2": "192.168.56.102", "client": "192.168.56.1",
    }
    assert spec.lvs_vips == ("192.168.56.131", "192.168.56.132")
    assert [i.vip for i in spec.server_instances] == ["192.168.56.111", "192.168.56.112"]


def test_client_has_eight_extra_sources(spec):
    assert len(spec.client.extra_ips) >= 8
    assert len(set(spec.client.source_ips)) == len(spec.client.source_ips)


def test_each_tier_is_dual_master(spec):
    for tier, hosts in ((spec.director_instances, {"lvs1", "lvs2"}), (spec.server_instances, {"server1", "server2"})):
        assert {i.master for i in tier} == hosts, "each host of a tier masters one VIP"
        for inst in tier:
            assert set(inst.hosts) == hosts
            assert [inst.state(h) for h in sorted(hosts)].count("MASTER") == 1


def test_vrids_do_not_collide_on_the_segment(spec):
    vrids = [i.vrid for i in (*spec.director_instances, *spec.server_instances)]
    assert len(set(vrids)) == len(vrids)


def test_check_weight_moves_the_vip(spec):
    for inst in spec.server_instances:
        prios = sorted((p for _, p in inst.priorities), reverse=True)
        assert prios[0] + spec.timers.script_weight < prios[1]


def test_seed_timers_kept(spec):
    t = spec.timers
    assert (t.advert_int, t.script_interval, t.delay_loop, t.connect_timeout, t.retry,
            t.delay_before_retry, t.persistence_timeout) == (1, 3, 6, 2, 2, 3, 5)


def test_validate_accepts_the_default(spec):
    spec.validate()


@pytest.mark.parametrize("change, message", [
    (lambda s: dataclasses.replace(s, hosts=(*s.hosts, Host("lvs1", "192.168.56.99", "director"))), "duplicate host"),
    (lambda s: dataclasses.replace(s, hosts=(*s.hosts, Host("x", "10.0.0.1", "client"))), "outside"),
    (lambda s: dataclasses.replace(s, server_instances=(VrrpInstance("VI_9", 9, "192.168.56.121", "x", (("server1", 100),)),)),
     "also host addresses"),
    (lambda s: dataclasses.replace(s, server_instances=(VrrpInstance("VI_9", 9, "192.168.56.150", "x", (("ghost", 100),)),)),
     "unknown host"),
])
def test_validate_rejects_contradictions(spec, change, message):
    with pytest.raises(ValueError, match=message):
        change(spec).validate()
