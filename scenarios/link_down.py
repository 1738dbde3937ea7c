"""link_down: carrier lost on a host's link — its own end (`lvs1`) or the bridge's (`lvs1@bridge`).

Breaks: the interface goes down; keepalived on that host goes to FAULT, its peers stop
hearing its adverts and the best backup takes over after its master-down interval.
Heals: link up; the host's keepalived leaves FAULT in BACKUP and preempts. A director
whose link stayed down long enough for its checkers to remove its real servers comes back
with an empty IPVS table: preempting before its checkers re-add them sends clients nowhere
(the model's `Ready` expectation; docs/workshop.md, exercise 1b).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from labs.analysis.expectations import Expectation
from labs.analysis.model import Model
from labs.lab.faults import BRIDGE_END, host_of, set_link
from labs.plan.targets import ByRole

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
        if host not in inst.nopreempt:  # a director's checkers cannot reach its real servers meanwhile
            out += model.returning(inst, host, model.preempt(inst, host), refused=True)
    return out
