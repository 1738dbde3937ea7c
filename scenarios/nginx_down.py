"""nginx_down: nginx killed on a server (master and workers) and unable to restart.

Breaks: the seed's check script (every script interval) finds nginx gone, tries to start
it — which fails, its config having been moved aside — waits, and stops this host's
keepalived; the server VIP then moves to the other server after its skew time. The
directors keep sending that VIP's share of clients to it, now answered by the other server.
Heals: config restored, nginx and keepalived started; the VIP returns by preemption.
"""
from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

from labs.analysis.model import Expectation, Model, Window

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ("server1", "server2")
DEFAULT_TARGET = "server1"
SCRIPT_SPAWNS = 10  # sh, cat, grep, nginx, sleep, cat, grep, cat ... in the check script
NGINX_START_SPAWNS = 3  # healing starts nginx (mnexec, nginx, its fork) before keepalived


def inject(lab: "Lab", target: str) -> None:
    nginx = lab.daemon(target, "nginx")
    nginx.block_restart()
    pids = nginx.processes()
    lab.fault("inject", f"nginx on {target} cannot restart (config moved aside); SIGKILL to master and workers {pids}")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


def heal(lab: "Lab", target: str) -> None:
    lab.daemon(target, "nginx").allow_restart()
    lab.fault("heal", f"nginx config restored; nginx and keepalived started on {target}")
    lab.restart(target, "nginx")
    lab.restart(target, "keepalived")


def expect(model: Model, target: str) -> list[Expectation]:
    out = []
    for inst in model.instances_mastered_by(target):
        to, graceful = model.graceful(inst, target)
        # The next check runs within one script interval; it waits restart_wait, then
        # stops keepalived gracefully.
        earliest = model.restart_wait + graceful.earliest
        window = Window(earliest, model.script_interval + earliest + model.tolerance(SCRIPT_SPAWNS),
                        f"next check within {model.script_interval:g} s + restart wait {model.restart_wait:g} s + {graceful.basis}")
        out.append(Expectation("inject", inst.name, inst.vip, target, to, window))
        out.append(Expectation("heal", inst.name, inst.vip, to, target, model.preempt(inst, target, spawns=NGINX_START_SPAWNS)))
    return out
