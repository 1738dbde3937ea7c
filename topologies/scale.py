"""The dual-master design with N real servers: for benchmarks of bring-up and rr evenness.

Directors as in dual_master (LVS1 .121 / LVS2 .122, VIPs .131 wrr and .132 rr). The real
servers come in dual-master pairs, like Server1/Server2: server 2k-1 is MASTER of its VIP
and BACKUP of its partner's. Server i is .(20+i), its VIP .(136+i), VRID 60+i, so N <= 64
fits the subnet between the directors' and the client's addresses (.121-.132, .1 and
.201-.208). Persistence is off: with it, each client address would stick to one server
and rr evenness could not be seen.

VRRP goes by unicast (unicast_peer) here, unlike dual_master: multicast adverts reach every
host on the segment, so N servers' 2N instances make each of N+3 hosts receive and drop
~2N adverts a second, a cost that grows as N squared. Under User-mode Linux's one CPU, 64
servers by multicast never converged: keepalived's timers ran 1.6-1.8 s late, adverts were
handled too late, and pairs held their VIP twice (measured; the `multicast` variant keeps
it, for comparison). By unicast each advert reaches the partner only.
"""
from __future__ import annotations

import dataclasses

from labs.common.errors import LabError
from labs.spec import Host, LabSpec, RealServer
from topologies import dual_master

PARAMETERS = ("servers",)
MAX_SERVERS = 64
DEFAULT_SERVERS = 4
VARIANTS = {
    "default": ("persistence off, N real servers in dual-master pairs (--servers N, even, 2-64), VRRP by unicast", True),
    "multicast": ("as default, but VRRP adverts to the multicast group, as in dual_master", False),
}


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
        instances.append(dual_master._pair(f"VI_{i}", 60 + i, f"192.168.56.{136 + i}", f"{1000 + i}",
                                           f"server{i}", f"server{partner}"))
    real = tuple(RealServer(inst.vip) for inst in instances)
    base = dual_master.spec()
    return dataclasses.replace(
        base, name="scale", hosts=(*base.directors, *hosts, base.client), server_instances=tuple(instances),
        virtual_servers=tuple(dataclasses.replace(vs, real_servers=real) for vs in base.virtual_servers),
        timers=dataclasses.replace(base.timers, persistence_timeout=0), unicast=VARIANTS[variant][1],
        description=f"dual_master's directors in front of N real servers in dual-master pairs (now {servers})",
    )
