"""link_down: carrier lost on a host's link — its own end (`lvs1`) or the bridge's (`lvs1@bridge`).

Breaks: the interface goes down; keepalived on that host goes to FAULT, its peers stop
hearing its adverts and the best backup takes over after its master-down interval.
Heals: link up; the host's keepalived leaves FAULT in BACKUP and preempts.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from labs.analysis.expectations import Expectation
from labs.analysis.model import Model
from labs.faults import BRIDGE_END, host_of, set_link
from labs.targets import ByRole

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ByRole(("director", "real_server"), ("", BRIDGE_END), keepalived=True)


def inject(lab: "Lab", target: str) -> None:
    lab.fault("inject", f"link down: {target}")
    set_link(lab, target, up=False)


def heal(lab: "Lab", target: str) -> None:
    lab.fault("heal", f"link up: {target}")
    set_link(lab, target, up=True)


def expect(model: Model, target: str) -> list[Expectation]:
    host = host_of(target)
    out: list[Expectation] = []
    for inst in model.instances_mastered_by(host):
        to, window = model.silent(inst, host)
        out += model.away_and_back(inst, host, to, window, restarted=False)
    return out
