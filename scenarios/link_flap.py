"""link_flap: a host's link goes down and up FLAPS times, DOWN_S down and UP_S up each time.

Breaks: each down period outlasts the backup's master-down interval and each up period
the master's preemption, so every flap moves each of the host's VIPs away and back:
the VIP arrives on the backup once per flap. Client errors are counted per flap.
Heals: the link is left up after the last flap.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from labs.analysis.expectations import Expectation, Moves, Window
from labs.analysis.model import Model
from labs.lab.faults import BRIDGE_END, host_of, set_link
from labs.plan.targets import ByRole

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ByRole(("director", "real_server"), ("", BRIDGE_END), keepalived=True)
FLAPS = 3
DOWN_S = 6.0  # > master-down interval (3.69 s with the seed's timers) + tolerance
UP_S = 6.0  # > preemption (3.61 s) + tolerance


def inject(lab: "Lab", target: str) -> None:
    lab.fault("inject", f"link of {target} flapping {FLAPS}x: {DOWN_S:g} s down, {UP_S:g} s up")
    for n in range(FLAPS):
        set_link(lab, target, up=False)
        time.sleep(DOWN_S)
        set_link(lab, target, up=True)
        if n < FLAPS - 1:
            time.sleep(UP_S)


heal = None  # the link is up after the last flap


def expect(model: Model, target: str) -> list[Expectation]:
    host = host_of(target)
    out: list[Expectation] = []
    for inst in model.instances_mastered_by(host):
        if host in inst.nopreempt:  # it never takes the VIP back: one move, at the first flap
            out.append(Moves("inject", inst.vip, inst.best_other(host), 1))
            _, first = model.silent(inst, host)
            out += model.clients_after(inst.vip, "inject", first, f"the backup takes over at the first flap: {first.basis}")
            continue
        out.append(Moves("inject", inst.vip, inst.best_other(host), FLAPS))
        back = model.preempt(inst, host)
        last = Window(0.0, duration(model) + back.latest,
                      f"after the last flap ({duration(model):g} s) the master takes over again: {back.basis}")
        out += model.clients_after(inst.vip, "inject", last)
    return out


def duration(model: Model) -> float:
    """How long the injection itself takes (the observation starts after it)."""
    return FLAPS * DOWN_S + (FLAPS - 1) * UP_S
