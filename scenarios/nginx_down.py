"""nginx_down: nginx killed on a server (master and workers) and unable to restart.

Breaks: the seed's check script (every script interval) finds nginx gone, tries to start
it — which fails, its config having been moved aside — waits, and stops this host's
keepalived; the server VIP then moves to the other server after its skew time. The
directors keep sending that VIP's share of clients to it, now answered by the other server.
Heals: config restored, nginx and keepalived started; the VIP returns by preemption.
A real server that runs no VRRP (a lab file's plain LVS real server) is removed by the
directors' checkers instead, and re-added after the heal.
"""
from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

from labs.analysis.expectations import Expectation, Move, Stay, Window
from labs.analysis.model import Model
from labs.plan.targets import ByRole

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ByRole(("real_server",))
SCRIPT_SPAWNS = 10  # sh, cat, grep, nginx, sleep, cat, grep, cat ... in the check script


def inject(lab: "Lab", target: str) -> None:
    nginx = lab.daemon(target, "nginx")
    nginx.block_restart()
    pids = nginx.processes()
    lab.fault("inject", f"nginx on {target} cannot restart (config moved aside); SIGKILL to master and workers {pids}")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


def heal(lab: "Lab", target: str) -> None:
    lab.daemon(target, "nginx").allow_restart()
    lab.fault("heal", f"nginx config restored; nginx (and keepalived, if the check stopped it) started on {target}")
    lab.restart(target, "nginx")
    if lab.runs(target, "keepalived"):
        lab.restart(target, "keepalived")


def expect(model: Model, target: str) -> list[Expectation]:
    """Three ways, read from the rendered check script and vrrp_script: the script stops
    keepalived (the seed's design); or its failure lowers the priority below the backup's
    (weight <= -(p_master - p_backup) - 1); or nothing can move the VIP."""
    out: list[Expectation] = model.checker_removes(target, "nginx is dead", refused=True)  # a real server without VRRP
    for inst in model.instances_mastered_by(target):
        to = inst.best_other(target)
        # The next check runs within one script interval (fall checks for the weight path)
        # and waits restart_wait before its verdict.
        wait = model.restart_wait
        checks = model.script_interval * model.script_fall
        _, silent = model.silent(inst, target)
        weighted = Window(wait + silent.earliest, checks + wait + silent.latest + model.tolerance(SCRIPT_SPAWNS),
                          f"check fails within {checks:g} s + {wait:g} s, priority {inst.priorities[target]}"
                          f"{model.script_weight:+d} < {inst.priorities[to]}: {silent.basis}")
        if model.script_stops_keepalived:
            _, graceful = model.graceful(inst, target)
            earliest = wait + graceful.earliest
            window = Window(earliest, model.script_interval + earliest + model.tolerance(SCRIPT_SPAWNS),
                            f"next check within {model.script_interval:g} s + restart wait {wait:g} s + {graceful.basis}")
        elif inst.priorities[target] + model.script_weight < inst.priorities[to]:
            window = weighted
        else:  # observed past the time a sufficient weight would have moved it
            would = Window(weighted.earliest, weighted.latest, f"where a failed check moves the VIP: within {checks:g} s + "
                           f"{wait:g} s, then {silent.basis}")
            out.append(Stay("inject", inst.name, inst.vip, target, would))
            out += model.clients_after(inst.vip, "inject", model.unaffected(),
                                       f"nothing moves {inst.vip} away from the dead nginx: its clients fail until the heal")
            continue
        out.append(Move("inject", inst.name, inst.vip, target, to, window))
        out += model.clients_after(inst.vip, "inject", window, f"clients sent to {inst.vip} fail until it moves: {window.basis}")
        if target in inst.nopreempt:
            out += model.stays_after_heal(inst, to, target)
            continue
        anchor = target if model.script_stops_keepalived else ""
        back = model.preempt(inst, target) if model.script_stops_keepalived else model.check_passes_again(inst, target)
        out.append(Move("heal", inst.name, inst.vip, to, target, back, after_restart_of=anchor))
        out += model.clients_after(inst.vip, "heal", back, f"{inst.vip} back by preemption: {back.basis}",
                                   after_restart_of=anchor)
    return out
