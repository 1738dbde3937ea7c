"""multicast_blocked: VRRP to its multicast group (224.0.0.18) dropped on every host of a
tier, as many clouds drop multicast; unicast VRRP (`unicast_peer`) passes.

Breaks: a firewall rule in each host of the target tier (`lvs`: the directors, `servers`,
`all`) drops VRRP to 224.0.0.18 in and out (nftables, or iptables-legacy). Instances that
advertise by multicast stop hearing each other: every backup promotes itself after its
master-down interval (a split brain); instances with unicast peers (`--variant unicast`)
keep hearing each other and nothing moves.
Heals: the rules removed on every host at once; the lower priority yields when it hears
the higher (which side hears first is a race here, so the clients' bound is the GARP
refresh's, see docs/stale-arp.md).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from labs.analysis.expectations import Expectation, Move, Release, Stay
from labs.analysis.model import Model
from labs.lab.faults import drop_rule

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ("lvs", "servers", "all")
DEFAULT_TARGET = "lvs"
MATCH = ("ip daddr 224.0.0.18 ip protocol vrrp", "-d 224.0.0.18 -p 112")  # nftables, iptables


def _hosts(lab: "Lab", target: str) -> list[str]:
    tiers = {"lvs": lab.spec.directors, "servers": lab.spec.real_servers, "all": (*lab.spec.directors, *lab.spec.real_servers)}
    return [h.name for h in tiers[target]]


def inject(lab: "Lab", target: str) -> None:
    hosts = _hosts(lab, target)
    rules = {h: drop_rule(lab.node(h), *MATCH) for h in hosts}
    t = lab.fault("inject", f"multicast VRRP (224.0.0.18) dropped on {', '.join(hosts)}")
    applied = 0.0
    for host, rule in rules.items():
        applied += rule.apply()
        lab.faults[host] = rule
    lab.annotate(t, applied_in_s=round(applied, 4), method=next(iter(rules.values())).method)


def heal(lab: "Lab", target: str) -> None:
    hosts = _hosts(lab, target)
    t = lab.fault("heal", f"multicast VRRP allowed again on {', '.join(hosts)}")
    applied = sum(lab.faults.pop(h).clear() for h in hosts)
    lab.annotate(t, applied_in_s=round(applied, 4))


def expect(model: Model, target: str) -> list[Expectation]:
    directors = set(model.directors)
    out: list[Expectation] = []
    for inst in model.instances.values():
        on_directors = set(inst.priorities) <= directors
        if (target == "lvs" and not on_directors) or (target == "servers" and on_directors):
            continue  # its adverts never cross a host with the rule
        if inst.unicast:  # unicast adverts pass: nothing moves (observed past when multicast's takeover would come)
            _, would = model.silent(inst, inst.master)
            out += [Stay("inject", inst.name, inst.vip, inst.master, would), Stay("heal", inst.name, inst.vip, inst.master)]
            continue
        backup = inst.best_other(inst.master)
        _, window = model.silent(inst, inst.master)
        release = model.yields(inst)
        out.append(Move("inject", inst.name, inst.vip, inst.master, backup, window))
        out.append(Release("heal", inst.name, inst.vip, backup, release))
        out += model.clients_after(inst.vip, "inject", model.while_two_masters(window))
        out += model.clients_after(inst.vip, "heal", model.after_two_masters(inst, release))
    return out
