"""director_failover: a director fails (keepalived stopped, crashed, or its link lost) under long-lived connections.

Targets: `lvs1` stops its keepalived gracefully, `lvs1:crash` crashes it, `lvs1:link` takes
its link down.

Breaks: as stop_keepalived (SIGTERM: priority-0 advert, the VIP and the IPVS rules
removed; the backup takes the VIP after its skew time), crash_keepalived (SIGKILL: the VIP,
the IPVS rules and the kernel's sync daemon stay; the backup takes over after its
master-down interval) or link_down (nothing leaves the host any more; the backup takes
over after its master-down interval), while the connection probe keeps
CONNECTIONS keep-alive HTTP/1.1 connections open through each LVS VIP, opened over
OPEN_OVER_S so that their ages at the fault spread, a GET on each at the probe's
interval (labs.probes.connections.INTERVAL). Just before the fault each director's IPVS sync daemon state and
connection entries are recorded (`ipvsadm --list --daemon`, `ipvsadm -Lnc`: events
"ipvs_sync" and "ipvs_conns"), so each connection shows whether the backup knew it.
Heals: keepalived started again (or the link up); it takes its VIP back by preemption.

Expects (the model, labs/analysis/model.py): the VIP moves as in stop_keepalived. The
moved VIP's connections all break without lvs_sync_daemon (the new holder has no IPVS
entry for them and resets them); with it (`--variant sync`) those older than the kernel's
sync flush bound at the fault survive (a crash leaves the kernel syncing until the
backup takes over: the bound is shorter by that), younger ones are measured. The other VIP's
connections all survive. The failback is measured.
"""
from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from labs.analysis.expectations import Connections, Expectation
from labs.analysis.model import Model
from labs.common.requirements import IPVSADM
from labs.plan.targets import ByRole
from scenarios import crash_keepalived, link_down, stop_keepalived

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ByRole(("director",), ("", ":crash", ":link"), keepalived=True, lvs=True)
FORMS = {"": stop_keepalived, "crash": crash_keepalived, "link": link_down}
CONNECTIONS = 20  # per LVS VIP (labs.probes.connections)
OPEN_OVER_S = 8.0  # the connections of a VIP are opened evenly over this span ...
BASELINE_S = 7.0  # ... of the baseline (+ ~0.5 s of ipvsadm before the fault): ~1 to ~9 s old at it
# Per phase at least: the snapshot of the directors' IPVS tables (~0.5 s under UML) runs
# inside the inject's observation, and a stalled connection needs its TCP retransmission.
OBSERVE_S = 4.0


def record_ipvs(lab: "Lab", target: str) -> None:
    """Each director's sync daemon state and connection entries, the target's first and
    the others' nearest the fault: the analysis shows beside each connection's fate
    which directors knew it."""
    assert lab.events is not None
    for host in sorted((d.name for d in lab.spec.directors), key=lambda h: h != target):
        node = lab.node(host)
        out, _, _ = node.pexec([IPVSADM, "--list", "--daemon"])
        lab.events.record("ipvs_sync", host=host, daemon=" ".join(out.split()) or "no sync daemon")
        out, _, _ = node.pexec([IPVSADM, "-Lnc"])
        entries = [w for w in (line.split() for line in out.splitlines()) if w[:1] == ["TCP"] and len(w) >= 5]
        lab.events.record("ipvs_conns", host=host,
                          conns=[f"{w[3]} {w[4]} {w[2]}" for w in entries if not w[3].endswith(":0")])


def form(target: str) -> tuple[str, ModuleType]:
    """The host and the scenario whose fault `target` names (`lvs1`, `lvs1:crash`, `lvs1:link`)."""
    host, _, how = target.partition(":")
    return host, FORMS[how]


def inject(lab: "Lab", target: str) -> None:
    host, how = form(target)
    record_ipvs(lab, host)
    how.inject(lab, host)


def heal(lab: "Lab", target: str) -> None:
    host, how = form(target)
    how.heal(lab, host)


def expect(model: Model, target: str) -> list[Expectation]:
    host, how = form(target)
    out = how.expect(model, host)
    moved = set()
    for inst in model.instances_mastered_by(host):
        if inst.vip in model.lvs_vips:
            to, window = model.graceful(inst, host) if how is stop_keepalived else model.silent(inst, host)
            # A crashed keepalived leaves its kernel's sync daemon sending until the backup
            # takes over (and stops its own backup daemon): at least the window's earliest.
            syncing = window.earliest if how is crash_keepalived else 0.0
            out.append(model.connections_failover(inst, host, to, syncing_s=syncing, takeover=window))
            out.append(Connections("heal", inst.vip, "measured", 0.0,
                                   f"failback to {host}: which connections it knows after it is back"))
            moved.add(inst.vip)
    for vip in model.lvs_vips:
        if vip not in moved:
            out += [model.connections_untouched(vip, "inject"), model.connections_untouched(vip, "heal")]
    return out
