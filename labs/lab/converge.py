"""Is the lab where its configuration says it should be? And if not, what is wrong?

Converged means: every VIP sits on exactly the host with the highest priority, every
director's IPVS table lists every real server for every virtual server, and HTTP through
each LVS VIP, sent from every client source address, is answered by every real server (a
plain VRRP VIP of a lab without directors: by its master).
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from labs.daemons.base import Daemon, Node, tail
from labs.common.errors import LabError
from labs.lab.events import EventLog
from labs.lab import inspect
from labs.spec import LabSpec, VrrpInstance

POLL = 0.1  # s between checks (each costs a few ms of netlink, and an ipvsadm per director once they run)


class Lab(Protocol):
    """What convergence needs of a running lab (labs.lab.lab.Lab is one): this module
    does not import the lab, so the two do not depend on each other."""

    spec: LabSpec
    events: EventLog | None
    started: list[Daemon]

    def running(self) -> dict[str, dict[str, bool]]: ...

    def node(self, name: str) -> Node: ...


@dataclass
class Snapshot:
    holders: dict[str, list[str]] = field(default_factory=dict)  # vip -> hosts
    vrrp: dict[str, dict[str, str]] = field(default_factory=dict)  # host -> instance -> state
    ipvs: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # director -> table
    http: dict[str, Counter[str]] = field(default_factory=dict)  # vip -> answerer -> count
    running: dict[str, dict[str, bool]] = field(default_factory=dict)  # host -> daemon -> up

    def to_json(self) -> dict[str, object]:
        return {
            "holders": self.holders, "vrrp": self.vrrp, "ipvs": self.ipvs,
            "http": {vip: dict(c) for vip, c in self.http.items()}, "running": self.running,
        }


def take(lab: Lab, with_http: bool = True, with_ipvs: bool = True) -> Snapshot:
    spec = lab.spec
    snap = Snapshot(running=lab.running())
    vips = [i.vip for i in (*spec.director_instances, *spec.server_instances)]
    on_host = {h.name: inspect.addresses(h.name, spec.interface) for h in spec.hosts}
    snap.holders = {vip: [h for h, addrs in on_host.items() if vip in addrs] for vip in vips}
    assert lab.events is not None
    for (host, instance), event in lab.events.latest("vrrp").items():
        snap.vrrp.setdefault(host, {})[instance] = event["state"]
    if with_ipvs:
        snap.ipvs = {d.name: inspect.ipvs_table(lab.node(d.name)) for d in spec.directors}
    if with_http:
        client = spec.client
        # Every source once; more rounds when there are more real servers than sources
        # (without persistence, rr gives consecutive connections to consecutive servers).
        n = max(len(client.source_ips), len(spec.real_servers))
        sources = [client.source_ips[i % len(client.source_ips)] for i in range(n)]
        for vip in spec.client_vips:
            answers = [inspect.http_get(client.name, src, vip) for src in sources]
            snap.http[vip] = Counter(a.server or f"error:{a.error or a.status}" for a in answers)
    return snap


def problems(lab: Lab, snap: Snapshot, only: Sequence[VrrpInstance] | None = None, settled: bool = False) -> list[str]:
    """Every way `snap` differs from what the configuration intends (empty: converged).
    With `only`, just those instances' VIP placement (a tier that is up before the rest).
    `settled`: a VIP whose configured master is nopreempt may rest on any one of its
    hosts (after a fault it stays where it went): settled, though not as first brought up."""
    spec = lab.spec
    found = []
    for host, daemons in snap.running.items():
        found += [f"{name} is not running on {host}" for name, up in daemons.items() if not up]
    for inst in only or (*spec.director_instances, *spec.server_instances):
        held = snap.holders.get(inst.vip, [])
        if settled and inst.master in inst.nopreempt and len(held) == 1 and held[0] in inst.hosts:
            continue
        if held != [inst.master]:
            found.append(f"VIP {inst.vip} ({inst.name}) is on {held or 'no host'}, expected {inst.master}")
    if only:
        return found
    for director, table in snap.ipvs.items():
        for vs in spec.virtual_servers:
            key = f"{vs.vip}:{vs.port}"
            want = {f"{rs.ip}:{rs.port}" for rs in vs.real_servers}
            have = set(table.get(key, []))
            if have != want:
                found.append(f"{director}'s IPVS table for {key} lists {sorted(have) or 'nothing'}, expected {sorted(want)}")
    for vip, answers in snap.http.items():
        names = set(spec.answerers(vip))
        if set(answers) != names:
            found.append(f"HTTP via {vip} ({sum(answers.values())} requests from the client's addresses): {dict(answers)}, "
                         f"expected answers from {sorted(names)}")
    return found


def wait(lab: Lab, t0: float, bound: float, only: Sequence[VrrpInstance] | None = None,
         with_http: bool = True, settled: bool = False) -> float:
    """Poll until converged and return when (time.monotonic()) the check that found it
    began — the lab was converged by then; the check's own time (ipvsadm in each director,
    HTTP from every client address: ~0.2-0.3 s under User-mode Linux) is not the lab's.
    Past `bound` seconds after `t0`, fail with what is wrong. `with_http=False` checks the
    control plane only: with persistence and clients that keep sending, IPVS keeps each
    client on the server it was moved to during a fault, so "both servers answer" is a
    bring-up criterion, not a healing one. `settled`: see `problems`."""
    while True:
        began = time.monotonic()
        snap = take(lab, with_http=False, with_ipvs=not only)
        if not problems(lab, snap, only, settled):
            if only or not with_http:
                return began
            snap = take(lab)
            if not problems(lab, snap, settled=settled):
                return began
        if time.monotonic() - t0 > bound:
            break
        time.sleep(POLL)
    lines = problems(lab, snap, only, settled)
    for d in lab.started:
        if not d.running() or any(d.host.name in p for p in lines):
            lines.append(f"last lines of {d.log}:\n{tail(d.log, 8)}")
    raise LabError(f"the lab did not converge within {bound:.1f} s:\n  " + "\n  ".join(lines))
