"""The seed article's network: two LVS directors and two nginx servers, both tiers dual-master.

LVS1 .121 and LVS2 .122 share VIPs .131/.132 (VRRP) and balance them with IPVS in DR mode
onto the server tier's VIPs .111/.112, which Server1 .101 and Server2 .102 share in turn.
The client sits where VirtualBox's host would (.1) and owns .201-.208 as extra sources.

Corrections to the seed (DESIGN.md §1): distinct router_ids, LVS2 is MASTER for VI_2, the
server tier uses VRIDs 61/62 instead of re-using 51/52 on the same segment, the nginx check
weighs -30 (100 - 30 < 80, so a failed check moves the VIP), `retry` instead of `nb_get_retry`.
"""
from __future__ import annotations

from labs.spec import Host, LabSpec, RealServer, Timers, VirtualServer, VrrpInstance
from labs.topo import SingleSegmentTopo

SUBNET = "192.168.56.0/24"
INTERFACE = "enp0s8"  # VirtualBox's second NIC: the seed's configs name it

HOSTS = (
    Host("lvs1", "192.168.56.121", "director"),
    Host("lvs2", "192.168.56.122", "director"),
    Host("server1", "192.168.56.101", "real_server"),
    Host("server2", "192.168.56.102", "real_server"),
    Host("client", "192.168.56.1", "client", tuple(f"192.168.56.{n}" for n in range(201, 209))),
)

MASTER_PRIORITY = 100
BACKUP_PRIORITY = 80


def _pair(name: str, vrid: int, vip: str, auth: str, master: str, backup: str) -> VrrpInstance:
    return VrrpInstance(name, vrid, vip, auth, ((master, MASTER_PRIORITY), (backup, BACKUP_PRIORITY)))


DIRECTOR_INSTANCES = (
    _pair("VI_1", 51, "192.168.56.131", "3333", "lvs1", "lvs2"),
    _pair("VI_2", 52, "192.168.56.132", "4444", "lvs2", "lvs1"),
)
SERVER_INSTANCES = (
    _pair("VI_1", 61, "192.168.56.111", "1111", "server1", "server2"),
    _pair("VI_2", 62, "192.168.56.112", "2222", "server2", "server1"),
)
REAL_SERVERS = tuple(RealServer(i.vip) for i in SERVER_INSTANCES)
VIRTUAL_SERVERS = (
    VirtualServer("192.168.56.131", 80, "wrr", REAL_SERVERS),
    VirtualServer("192.168.56.132", 80, "rr", REAL_SERVERS),
)


def spec() -> LabSpec:
    """The corrected dual-master lab."""
    return LabSpec(
        name="dual_master",
        subnet=SUBNET,
        interface=INTERFACE,
        hosts=HOSTS,
        director_instances=DIRECTOR_INSTANCES,
        server_instances=SERVER_INSTANCES,
        virtual_servers=VIRTUAL_SERVERS,
        timers=Timers(),
        description="seed article: LVS1/LVS2 dual-master IPVS DR in front of Server1/Server2 dual-master nginx",
    )


class DualMasterTopo(SingleSegmentTopo):
    """Mininet view of `spec()`: every host on one Linux bridge."""

    def __init__(self) -> None:
        super().__init__(spec())


TOPO = DualMasterTopo
