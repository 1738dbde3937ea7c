"""The seed article's network: two LVS directors and two nginx servers, both tiers dual-master.

LVS1 .121 and LVS2 .122 share VIPs .131/.132 (VRRP) and balance them with IPVS in DR mode
onto the server tier's VIPs .111/.112, which Server1 .101 and Server2 .102 share in turn.
The client sits where VirtualBox's host would (.1) and owns .201-.208 as extra sources.

Corrections to the seed (docs/seed-article.md): distinct router_ids, LVS2 is MASTER for
VI_2, the server tier uses VRIDs 61/62 instead of re-using 51/52 on the same segment, the
nginx check weighs -30 (100 - 30 < 80, so a failed check moves the VIP), `retry` instead of
`nb_get_retry`, ARP sysctls on the real servers, and `vrrp_garp_master_refresh 1`.

Why the GARP refresh (measured, docs/stale-arp.md): after two masters existed at once
(split_brain, blackhole), the one that yields sends nothing, and the winner re-sends its
gratuitous ARPs only if it hears a lower-priority advert. When the loser hears the winner
first, clients that last saw the loser's GARP keep its MAC: in the lab every request to
.132 failed for as long as it observed (478 of 524 over 9.5 s, "still failing at the end")
after split_brain's heal. `vrrp_higher_prio_send_advert` did not help (the loser's extra
advert went out while its outbound VRRP was still blocked: 463 of 524 failed);
`vrrp_garp_master_refresh 1` bounded it to one second (0 failures on .132; on .131, which
lvs2 held until it could hear lvs1, 51 requests in the second after lvs2 yielded). Its
cost: a GARP per VIP per second from each master, and during a split brain clients move
at every refresh. The `seed` and `no_garp_refresh` variants keep keepalived's default (none).

Why `net.ipv4.vs.expire_nodest_conn = 1` on the directors (measured): in nginx_down, two
of five runs had one request time out 1.3 and 2.2 s after .111 had moved, each from a
client address that had been pinned to server1. Its failed attempts left IPVS
connection entries bound to .111; once the checker removed .111, a new connection that
reused one of their ports matched such an entry and, with the default 0, IPVS dropped its
packets silently (Linux ip_vs_core.c: "the destination server is not available"). With 1
the entry expires and the connection is scheduled anew. The `seed` variant keeps 0.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable

from labs.common.errors import LabError
from labs.spec import Host, LabSpec, RealServer, Timers, VirtualServer, VrrpInstance

SUBNET = "192.168.56.0/24"
INTERFACE = "enp0s8"  # VirtualBox's second NIC: the seed's configs name it

HOSTS = (
    Host("lvs1", "192.168.56.121", "director"),
    Host("lvs2", "192.168.56.122", "director"),
    Host("server1", "192.168.56.101", "real_server"),
    Host("server2", "192.168.56.102", "real_server"),
    Host("client", "192.168.56.1", "client", tuple(f"192.168.56.{n}" for n in range(201, 209))),
)

GARP_REFRESH = 1  # s: vrrp_garp_master_refresh (see the module docstring)
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


def _corrected() -> LabSpec:
    return LabSpec(
        name="dual_master",
        subnet=SUBNET,
        interface=INTERFACE,
        hosts=HOSTS,
        director_instances=DIRECTOR_INSTANCES,
        server_instances=SERVER_INSTANCES,
        virtual_servers=VIRTUAL_SERVERS,
        timers=Timers(garp_master_refresh=GARP_REFRESH),
        description="seed article: LVS1/LVS2 dual-master IPVS DR in front of Server1/Server2 dual-master nginx",
    )


def _seed_vrids(s: LabSpec) -> LabSpec:
    tier = tuple(dataclasses.replace(i, vrid=d.vrid) for i, d in zip(s.server_instances, s.director_instances))
    return dataclasses.replace(s, server_instances=tier)


def _lvs2_both_backup(s: LabSpec) -> LabSpec:
    tier = tuple(dataclasses.replace(i, state_override=(("lvs2", "BACKUP"),)) for i in s.director_instances)
    return dataclasses.replace(s, director_instances=tier)


def _weight_plus1(s: LabSpec) -> LabSpec:
    return dataclasses.replace(s, timers=dataclasses.replace(s.timers, script_weight=1), script_stops_keepalived=False)


def _no_arp(s: LabSpec) -> LabSpec:
    return dataclasses.replace(s, arp_sysctls=False)


def _seed(s: LabSpec) -> LabSpec:
    s = _no_garp_refresh(_no_arp(_lvs2_both_backup(_seed_vrids(s))))
    return dataclasses.replace(
        s, timers=dataclasses.replace(s.timers, script_weight=1), checker_retry_keyword="nb_get_retry",
        router_ids=(("lvs1", "keep_101"), ("lvs2", "keep_101"), ("server1", "keep_101"), ("server2", "keep_102")),
        config_errors_ok=True, expire_nodest_conn=False,
    )


def _fast(s: LabSpec) -> LabSpec:
    return dataclasses.replace(s, timers=Timers(
        advert_int=0.2, vrrp_version=3, script_interval=1, restart_wait=1, delay_loop=1, connect_timeout=1,
        retry=1, delay_before_retry=1, persistence_timeout=s.timers.persistence_timeout,
        garp_master_refresh=s.timers.garp_master_refresh))


def _no_garp_refresh(s: LabSpec) -> LabSpec:
    return dataclasses.replace(s, timers=dataclasses.replace(s.timers, garp_master_refresh=0))


def _higher_prio_advert(s: LabSpec) -> LabSpec:
    return dataclasses.replace(s, timers=dataclasses.replace(s.timers, garp_master_refresh=0, higher_prio_send_advert=True))


def _unicast(s: LabSpec) -> LabSpec:
    return dataclasses.replace(s, unicast=True)


def _no_persistence(s: LabSpec) -> LabSpec:
    return dataclasses.replace(s, timers=dataclasses.replace(s.timers, persistence_timeout=0))


def _sync(s: LabSpec) -> LabSpec:
    return dataclasses.replace(s, timers=dataclasses.replace(s.timers, lvs_sync_daemon=True))


def _sync_both(s: LabSpec) -> LabSpec:
    return dataclasses.replace(s, timers=dataclasses.replace(s.timers, lvs_sync_daemon=True, lvs_sync_both=True))


def _ready_checkers(s: LabSpec) -> LabSpec:
    """The directors wait before preempting until their checkers have surely re-added the
    real servers they removed during an outage: the next check within delay_loop, its
    connect within connect_timeout, and a second to spare (docs/workshop.md, 1b)."""
    delay = float(math.ceil(s.timers.delay_loop + s.timers.connect_timeout) + 1)
    return dataclasses.replace(s, director_instances=tuple(dataclasses.replace(i, preempt_delay=delay)
                                                           for i in s.director_instances))


# name -> (what it changes, and why it is interesting; how to build it from the corrected lab)
VARIANTS: dict[str, tuple[str, Callable[[LabSpec], LabSpec]]] = {
    "default": ("the corrected configuration", lambda s: s),
    "seed": ("the article's configs as written, as far as keepalived accepts them: shared router_id keep_101, "
             "LVS2 BACKUP for both, VRIDs 51/52 on both tiers, check weight +1, nb_get_retry, no ARP sysctls "
             "(the check script still stops keepalived, as the article's systemctl line does)", _seed),
    "weight_plus1": ("check weight +1 and a check script that only reports failure: a failed check can never "
                     "lower 100 below 80, so nginx death moves no VIP", _weight_plus1),
    "no_arp": ("no arp_ignore/arp_announce on the real servers: they answer ARP for the LVS VIPs on lo, "
               "so clients can reach them directly, bypassing the directors", _no_arp),
    "shared_vrids": ("the server tier re-uses VRIDs 51/52 of the LVS tier on the same segment", _seed_vrids),
    "lvs2_both_backup": ("LVS2 configured BACKUP for both instances (priorities unchanged)", _lvs2_both_backup),
    "fast": ("tuned for speed: VRRPv3 with 0.2 s adverts, 1 s script/checker timers (costs 5x the adverts "
             "per second on the segment)", _fast),
    "no_garp_refresh": ("keepalived's default, no vrrp_garp_master_refresh: after two masters met again, clients can "
                        "keep the yielded master's MAC (stale ARP; split_brain's heal fails)", _no_garp_refresh),
    "higher_prio_advert": ("vrrp_higher_prio_send_advert instead of the GARP refresh: a yielding master sends one "
                           "more advert (it does not reach the winner in split_brain's heal)", _higher_prio_advert),
    "unicast": ("VRRP by unicast_src_ip/unicast_peer on every instance instead of multicast (as clouds that "
                "drop multicast need; see the multicast_blocked scenario)", _unicast),
    "no_persistence": ("persistence_timeout off: every connection is scheduled on its own", _no_persistence),
    "sync": ("lvs_sync_daemon between the directors (bound to VI_1): the backup learns the master's IPVS connection "
             "table, so connections can survive a director failover (scenario director_failover)", _sync),
    "ready_checkers": ("the directors preempt only after preempt_delay (delay_loop + connect_timeout + 1 s, every "
                       "director state BACKUP as keepalived requires): a director back from an outage takes its VIP "
                       "once its checkers have re-added the real servers (exercise 1b)", _ready_checkers),
    "sync_both": ("lvs_sync_daemon bound to no VRRP instance: both sync daemons on both directors, so each learns the "
                  "other's connections (lvs2's VIP too, which `sync` leaves unprotected)", _sync_both),
}


def spec(variant: str = "default") -> LabSpec:
    """The corrected dual-master lab, or one of its VARIANTS."""
    if variant not in VARIANTS:
        raise LabError(f"unknown variant {variant!r} for dual_master; known: {', '.join(VARIANTS)}")
    return dataclasses.replace(VARIANTS[variant][1](_corrected()), variant=variant)
