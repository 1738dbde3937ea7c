"""split_brain: VRRP adverts between a host and its peers blocked; both sides become MASTER.

Breaks: a firewall rule in the target (nftables, or iptables-legacy) drops VRRP (IP protocol 112) in and out, and
nothing else. Each side stops hearing the other: the backup of each instance promotes
itself after its master-down interval, so every VIP of the pair is held twice, and the
clients follow whichever holder's gratuitous ARP they saw last.
Heals: inbound VRRP first, outbound one advert interval (+0.5 s) later. The target hears
its peers at their next advert: where it is the lower priority it yields at once, before
the winner can hear it, so the winner never receives a lower-priority advert and sends no
gratuitous ARP (keepalived re-announces on `vrrp_garp_lower_prio_repeat` only when it
hears one). Clients that last saw the target's GARP keep its MAC for that VIP until their
ARP entry expires (Linux: 15-45 s REACHABLE, then 5 s DELAY and probes): a stale-ARP
outage, shown every time instead of by the luck of which advert comes first. keepalived's
`vrrp_garp_master_refresh` bounds it; `vrrp_higher_prio_send_advert` cannot help here
(the loser's extra advert is still dropped outbound). Where the target is the higher
priority, it hears the lower advert, re-sends its GARPs (not VRRP: not dropped) and
wins back the clients at once; its peer yields once the outbound direction is open.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from labs.analysis.expectations import Expectation, Move, Release, Window
from labs.analysis.model import Model
from labs.lab.faults import heal_staged, inject_drop
from labs.plan.targets import ByRole

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ByRole(("director", "real_server"), keepalived=True)


def outbound_after(advert_int: float) -> float:
    """Seconds between reopening inbound and outbound VRRP: the target has heard its peers'
    next advert (within one interval) with room to spare."""
    return advert_int + 0.5


def inject(lab: "Lab", target: str) -> None:
    inject_drop(lab, target, "VRRP (IP protocol 112) dropped in and out", "ip protocol vrrp", "-p 112")


def heal(lab: "Lab", target: str) -> None:
    heal_staged(lab, target, "VRRP allowed again", "in", outbound_after(lab.spec.timers.advert_int))


def expect(model: Model, target: str) -> list[Expectation]:
    out: list[Expectation] = []
    for inst in model.instances.values():
        if target not in inst.priorities:
            continue
        backup = inst.best_other(inst.master)
        _, window = model.silent(inst, inst.master)
        out.append(Move("inject", inst.name, inst.vip, inst.master, backup, window))
        yields = model.yields(inst)
        if backup == target:  # the target hears the winner first and yields; nobody hears a lower priority
            release, heard = yields, None
        else:  # the peer hears the target only once outbound VRRP flows; the target hears it at once
            release = yields.shifted(outbound_after(inst.advert_int), "outbound VRRP reopened")
            heard = Window(0.0, yields.latest, f"{target} hears {backup}'s lower priority and re-sends its GARPs: "
                           f"{yields.basis}")
        out.append(Release("heal", inst.name, inst.vip, backup, release))
        out += model.clients_after(inst.vip, "inject", model.while_two_masters(window))
        out += model.clients_after(inst.vip, "heal", model.after_two_masters(inst, release, heard))
    return out
