"""blackhole: all traffic to and from a host silently dropped while its carrier stays up.

Breaks: netem loss 100% on both ends of the host's link (nftables drop in the host where
the kernel has no netem; the fault's detail says which). The host hears no adverts and
keeps (or takes) every VIP, its peer takes over after its master-down interval: duplicate
VIPs, but only one of them reachable.
Heals: traffic flows again; hearing the higher priority, the lower one yields at once.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from labs.analysis.model import Expectation, Model, Move, Release
from labs.faults import blackhole

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ("lvs1", "lvs2", "server1", "server2")
DEFAULT_TARGET = "lvs1"


def inject(lab: "Lab", target: str) -> None:
    t = lab.fault("inject", f"blackhole {target}")
    start = time.monotonic()
    method = blackhole(lab, target, on=True)
    lab.annotate(t, method=method, applied_in_s=round(time.monotonic() - start, 4))


def heal(lab: "Lab", target: str) -> None:
    t = lab.fault("heal", f"blackhole removed from {target}")
    start = time.monotonic()
    blackhole(lab, target, on=False)
    lab.annotate(t, applied_in_s=round(time.monotonic() - start, 4))


def expect(model: Model, target: str) -> list[Expectation]:
    out: list[Expectation] = []
    for inst in model.instances.values():
        if target not in inst.priorities:
            continue
        if inst.master == target:
            to, window = model.silent(inst, target)
            out.append(Move("inject", inst.name, inst.vip, target, to, window))
            out.append(Release("heal", inst.name, inst.vip, to, model.yields(inst)))
        else:  # the isolated backup promotes itself, unseen; on healing it yields
            _, window = model.silent(inst, inst.master)
            out.append(Move("inject", inst.name, inst.vip, inst.master, target, window))
            out.append(Release("heal", inst.name, inst.vip, target, model.yields(inst)))
    return out
