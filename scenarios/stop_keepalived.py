"""stop_keepalived: keepalived stopped gracefully (SIGTERM) on the target host.

Breaks: the target's keepalived sends priority-0 adverts and removes its VIPs; each VIP
it was MASTER for moves to the best backup after that backup's skew time.
Heals: keepalived started again; it starts in BACKUP, ignores the lower-priority adverts
and takes its VIPs back after its own master-down interval (preemption).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from labs.analysis.expectations import Expectation
from labs.analysis.model import Model
from labs.plan.targets import ByRole

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ByRole(("director", "real_server"), keepalived=True)


def inject(lab: "Lab", target: str) -> None:
    keepalived = lab.daemon(target, "keepalived")
    lab.fault("inject", f"SIGTERM to keepalived (pid {keepalived.pid}) on {target}")
    keepalived.stop()


def heal(lab: "Lab", target: str) -> None:
    lab.fault("heal", f"keepalived started again on {target}")
    lab.restart(target, "keepalived")


def expect(model: Model, target: str) -> list[Expectation]:
    out: list[Expectation] = []
    for inst in model.instances_mastered_by(target):
        to, window = model.graceful(inst, target)
        out += model.away_and_back(inst, target, to, window, restarted=True)
    return out
