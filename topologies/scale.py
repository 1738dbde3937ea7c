"""The dual-master design with N real servers: for benchmarks of bring-up and rr evenness.

Directors as in dual_master (LVS1 .121 / LVS2 .122, VIPs .131 wrr and .132 rr). The real
servers come in dual-master pairs, like Server1/Server2: server 2k-1 is MASTER of its VIP
and BACKUP of its partner's. Server i is .(20+i), its VIP .(60+i), VRID 60+i, so N <= 32
fits the subnet without touching the other addresses. Persistence is off: with it, each
client address would stick to one server and rr evenness could not be seen.
"""
from __future__ import annotations

import dataclasses

from labs.errors import LabError
from labs.spec import Host, LabSpec, RealServer
from topologies import dual_master

PARAMETERS = ("servers",)
MAX_SERVERS = 32
DEFAULT_SERVERS = 4
VARIANTS = {"default": ("persistence off, N real servers in dual-master pairs (--servers N, even, 2-32)", None)}


def _server(i: int) -> Host:
    return Host(f"server{i}", f"192.168.56.{20 + i}", "real_server")


def spec(variant: str = "default", servers: int = DEFAULT_SERVERS) -> LabSpec:
    if variant not in VARIANTS:
        raise LabError(f"unknown variant {variant!r} for scale; known: {', '.join(VARIANTS)}")
    if not (2 <= servers <= MAX_SERVERS and servers % 2 == 0):
        raise LabError(f"--servers {servers}: give an even number from 2 to {MAX_SERVERS} (servers come in pairs)")
    hosts = tuple(_server(i) for i in range(1, servers + 1))
    instances = []
    for i in range(1, servers + 1):
        partner = i + 1 if i % 2 else i - 1
        instances.append(dual_master._pair(f"VI_{i}", 60 + i, f"192.168.56.{60 + i}", f"{1000 + i}",
                                           f"server{i}", f"server{partner}"))
    real = tuple(RealServer(inst.vip) for inst in instances)
    base = dual_master.spec()
    return dataclasses.replace(
        base, name="scale", hosts=(*base.directors, *hosts, base.client), server_instances=tuple(instances),
        virtual_servers=tuple(dataclasses.replace(vs, real_servers=real) for vs in base.virtual_servers),
        timers=dataclasses.replace(base.timers, persistence_timeout=0),
        description=f"dual_master's directors in front of N real servers in dual-master pairs (now {servers})",
    )
