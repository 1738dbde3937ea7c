"""kill_nginx: nginx killed once on a server (master and workers); the check script restarts it.

Breaks: SIGKILL to nginx's master and its workers (the master alone would leave the
workers serving on the listening socket, which tests nothing).
Heals: itself — the seed's check script, at its next run, starts nginx again.
Expects: no VIP moves; client failures (only those pinned to that server) end within one
script interval plus the script's process starts. Targets real servers whose keepalived
runs a check script (it is what restarts nginx).
"""
from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

from labs.analysis.expectations import Expectation, Stay, Window
from labs.analysis.model import Model
from labs.plan.targets import ByRole

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ByRole(("real_server",), check_script=True)
RESTART_SPAWNS = 6  # sh, cat, grep, nginx (+ its fork), cat, grep


def inject(lab: "Lab", target: str) -> None:
    pids = lab.daemon(target, "nginx").processes()
    lab.fault("inject", f"SIGKILL to nginx master and workers {pids} on {target} (restart allowed)")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


heal = None  # the check script heals it


def expect(model: Model, target: str) -> list[Expectation]:
    out: list[Expectation] = [Stay("inject", i.name, i.vip, i.master) for i in model.instances.values()]
    latest = model.script_interval + model.tolerance(RESTART_SPAWNS)
    restarted = Window(0.0, latest, f"nginx restarted at the next check, within {model.script_interval:g} s")
    for inst in model.instances_mastered_by(target):
        out += model.clients_after(inst.vip, "inject", restarted)
    return out
