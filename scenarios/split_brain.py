"""split_brain: VRRP adverts between a host and its peers blocked; both sides become MASTER.

Breaks: a firewall rule in the target (nftables, or iptables-legacy) drops VRRP (IP protocol 112) in and out, and
nothing else. Each side stops hearing the other: the backup of each instance promotes
itself after its master-down interval, so every VIP of the pair is held twice.
Heals: the rule is removed; the lower priority hears the higher and yields at once.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from labs.analysis.model import Expectation, Model, Move, Release
from labs.faults import heal_drop, inject_drop

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ("lvs1", "lvs2", "server1", "server2")
DEFAULT_TARGET = "lvs1"


def inject(lab: "Lab", target: str) -> None:
    inject_drop(lab, target, "VRRP (IP protocol 112) dropped in and out", "ip protocol vrrp", "-p 112")


def heal(lab: "Lab", target: str) -> None:
    heal_drop(lab, target, "VRRP allowed again")


def expect(model: Model, target: str) -> list[Expectation]:
    out: list[Expectation] = []
    for inst in model.instances.values():
        if target not in inst.priorities:
            continue
        backup = inst.best_other(inst.master)
        _, window = model.silent(inst, inst.master)
        out.append(Move("inject", inst.name, inst.vip, inst.master, backup, window))
        out.append(Release("heal", inst.name, inst.vip, backup, model.yields(inst)))
    return out
