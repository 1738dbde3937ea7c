"""The status table `--check` prints: hosts, VRRP states, VIP holders, IPVS tables, HTTP."""
from __future__ import annotations

from labs.lab.converge import Snapshot
from labs.common.tables import render as _table
from labs.lab.network import host_addresses
from labs.spec import LabSpec


def text(spec: LabSpec, snap: Snapshot) -> str:
    parts = []
    parts.append(_table(
        ["host", "role", "addresses", "daemons"],
        [[h.name, h.role, " ".join(host_addresses(spec, h)),
          " ".join(f"{d}:{'up' if up else 'DOWN'}" for d, up in snap.running.get(h.name, {}).items()) or "-"]
         for h in spec.hosts],
    ))
    rows = []
    for inst in (*spec.director_instances, *spec.server_instances):
        states = " ".join(f"{h}={snap.vrrp.get(h, {}).get(inst.name, '?')}({inst.priority(h)})" for h in inst.hosts)
        holders = ",".join(snap.holders.get(inst.vip, [])) or "nobody"
        rows.append([inst.name, str(inst.vrid), inst.vip, states, holders, inst.master])
    parts.append(_table(["instance", "vrid", "vip", "state(priority) per host", "held by", "expected"], rows))
    rows = []
    for director, table in snap.ipvs.items():
        for service, reals in table.items():
            rows.append([director, service, " ".join(reals) or "-"])
    parts.append(_table(["director", "virtual server", "real servers (ipvsadm -Ln)"], rows))
    rows = [[vip, " ".join(f"{k}:{v}" for k, v in sorted(c.items()))] for vip, c in snap.http.items()]
    requests = max((sum(c.values()) for c in snap.http.values()), default=0)
    head = ["HTTP via", f"answers to {requests} requests from {len(spec.client.source_ips)} client addresses"]
    parts.append(_table(head, rows))
    return "\n\n".join(parts)
