"""crash_keepalived: every keepalived process of the target killed with SIGKILL.

Breaks: no priority-0 advert, and the VIPs stay configured on the crashed host: the
backup takes over a master-down interval after the last advert, and until healing the
VIP sits on two hosts (duplicate_s measures it).
Heals: keepalived started again; at start it removes the stale VIPs, then takes them back
by preemption.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from labs.analysis.expectations import Expectation
from labs.analysis.model import Model
from labs.lab.faults import kill_tree
from labs.plan.targets import ByRole

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ByRole(("director", "real_server"), keepalived=True)


def inject(lab: "Lab", target: str) -> None:
    keepalived = lab.daemon(target, "keepalived")
    lab.fault("inject", f"SIGKILL to keepalived (pid {keepalived.pid}) and its children on {target}")
    kill_tree(keepalived.pid)


def heal(lab: "Lab", target: str) -> None:
    lab.fault("heal", f"keepalived started again on {target}")
    lab.restart(target, "keepalived")


def expect(model: Model, target: str) -> list[Expectation]:
    out: list[Expectation] = []
    for inst in model.instances_mastered_by(target):
        to, window = model.silent(inst, target)
        out += model.away_and_back(inst, target, to, window, restarted=True)
    return out
