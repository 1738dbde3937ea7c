"""blackhole: all traffic to and from a host silently dropped while its carrier stays up.

Breaks: netem loss 100% on both ends of the host's link (nftables drop in the host where
the kernel has no netem; the fault's detail says which). The host hears no adverts and
keeps (or takes) every VIP, its peer takes over after its master-down interval: duplicate
VIPs, but only one of them reachable (the isolated host's GARPs are lost too).
Heals: outbound first, inbound one advert interval (+0.5 s) later. Where the host is the
master, its peer hears it at its next advert and yields at once, while the host cannot
hear the peer's lower priority yet: nobody re-sends a GARP, and clients keep the peer's
MAC for that VIP until their ARP entry expires unless keepalived's
`vrrp_garp_master_refresh` re-announces (the same mechanism as split_brain, shown every
time rather than by the luck of which advert comes first). Where the host had promoted
itself unseen, it yields once it hears its peer.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from labs.analysis.expectations import Expectation, Move, Release
from labs.analysis.model import Model
from labs.lab.faults import Blackhole, heal_staged
from labs.plan.targets import ByRole

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ByRole(("director", "real_server"), keepalived=True)


def inbound_after(advert_int: float) -> float:
    """Seconds between reopening the host's outbound and inbound traffic: its peers have
    heard its next advert (within one interval) with room to spare."""
    return advert_int + 0.5


def inject(lab: "Lab", target: str) -> None:
    fault = Blackhole(lab, target)
    t = lab.fault("inject", f"blackhole {target}")
    start = time.monotonic()
    method = fault.apply()
    lab.faults[target] = fault
    lab.annotate(t, method=method, applied_in_s=round(time.monotonic() - start, 4))


def heal(lab: "Lab", target: str) -> None:
    heal_staged(lab, target, "blackhole removed", "out", inbound_after(lab.spec.timers.advert_int))


def expect(model: Model, target: str) -> list[Expectation]:
    out: list[Expectation] = []
    for inst in model.instances.values():
        if target not in inst.priorities:
            continue
        yields = model.yields(inst)
        if inst.master == target:
            to, window = model.silent(inst, target)
            out.append(Move("inject", inst.name, inst.vip, target, to, window))
            out.append(Release("heal", inst.name, inst.vip, to, yields))
            out += model.clients_after(inst.vip, "inject", window, f"the backup's GARPs at takeover: {window.basis}")
            out += model.clients_after(inst.vip, "heal", model.after_two_masters(inst, yields))
            out += model.returning(inst, target, yields, refused=False)  # the only holder again once its peer yields
        else:  # the isolated backup promotes itself, unseen; it yields once it hears again
            _, window = model.silent(inst, inst.master)
            out.append(Move("inject", inst.name, inst.vip, inst.master, target, window))
            release = yields.shifted(inbound_after(inst.advert_int), "inbound traffic reopened")
            out.append(Release("heal", inst.name, inst.vip, target, release))
            # its peer hears its lower priority once outbound traffic flows and re-sends GARPs
            out += model.clients_after(inst.vip, "heal", model.after_two_masters(inst, release, model.unaffected()))
    return out
