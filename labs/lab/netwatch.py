"""Netlink monitors, one socket per lab namespace, read by one thread: every IPv4 address
added or removed (VIPs moving) and every link going up or down, stamped on arrival; in the
client's namespace also its ARP (neighbour) entries, so the analysis can tell which host's
MAC the client sent a VIP's traffic to. Each host's own MAC is recorded once ("mac").

Kernel notifications, not polling: a VIP's arrival is seen within the thread's wake-up
latency, and nothing is missed between two polls.
"""
from __future__ import annotations

import selectors
import socket

from pyroute2 import IPRoute
from pyroute2.netlink.rtnl import RTMGRP_IPV4_IFADDR, RTMGRP_LINK, RTMGRP_NEIGH

from labs.lab.events import EventLog
from labs.lab import netns
from labs.lab.watch import SelectorThread


# Linux NUD_* states (include/uapi/linux/neighbour.h)
NUD = {0x01: "INCOMPLETE", 0x02: "REACHABLE", 0x04: "STALE", 0x08: "DELAY", 0x10: "PROBE",
       0x20: "FAILED", 0x40: "NOARP", 0x80: "PERMANENT"}


DEFAULT_QDISCS = {"noqueue", "pfifo_fast", "fq_codel", "mq", "pfifo", "fq", "ingress"}


class NetlinkWatcher(SelectorThread):
    def __init__(self, events: EventLog) -> None:
        super().__init__(events, "netlink-watcher")
        self.sockets: list[IPRoute] = []
        self.operstate: dict[tuple[str, str], str] = {}
        self.initial: dict[tuple[str, str], str] = {}  # operstate when each namespace was first watched
        self.watched: list[tuple[str, str, str | None, bool]] = []  # (ns, host, lab_ifname, neighbours)

    def add(self, ns: str, host: str, lab_ifname: str | None = None, neighbours: bool = False) -> None:
        """Watch namespace `ns` (a name or a namespace file) and call it `host` in events;
        record the MAC of `lab_ifname`, and with `neighbours` every ARP entry change."""
        with netns.entered(ns):
            ipr = IPRoute()
        ipr.bind(groups=RTMGRP_IPV4_IFADDR | RTMGRP_LINK | (RTMGRP_NEIGH if neighbours else 0))
        for link in ipr.get_links():
            name = link.get_attr("IFLA_IFNAME")
            self.operstate[(host, name)] = self.initial[(host, name)] = link.get_attr("IFLA_OPERSTATE")
            if name == lab_ifname:
                self.events.record("mac", host=host, ifname=name, mac=link.get_attr("IFLA_ADDRESS"))
        if neighbours:
            for msg in ipr.get_neighbours(family=socket.AF_INET):
                self._neighbour(msg, host)
        self.watched.append((ns, host, lab_ifname, neighbours))
        self.sockets.append(ipr)
        self.sel.register(ipr.fileno(), selectors.EVENT_READ, (ipr, host))

    def snapshot(self) -> None:
        """Record the state a new event file starts from (the next scenario on the same lab):
        every address held ("addr" add, `snapshot` true), each host's MAC and the client's
        ARP entries, read with a socket of its own (the watching sockets belong to the
        watcher's thread)."""
        for ns, host, lab_ifname, neighbours in self.watched:
            with netns.entered(ns):
                ipr = IPRoute()
            with ipr:
                for msg in ipr.get_addr(family=socket.AF_INET):
                    if msg.get_attr("IFA_LABEL") == "lo":  # loopback (and DR's VIPs on it): set before watching began
                        continue
                    self.events.record("addr", host=host, action="add", address=msg.get_attr("IFA_ADDRESS"),
                                       ifname=msg.get_attr("IFA_LABEL"), snapshot=True)
                for link in ipr.get_links():
                    if link.get_attr("IFLA_IFNAME") == lab_ifname:
                        self.events.record("mac", host=host, ifname=lab_ifname, mac=link.get_attr("IFLA_ADDRESS"))
                if neighbours:
                    for msg in ipr.get_neighbours(family=socket.AF_INET):
                        self._neighbour(msg, host)

    def qdiscs(self) -> list[tuple[str, str, str]]:
        """(host, interface, kind) of every queueing discipline that is not a kernel default
        (netem left by a fault, say), in every watched namespace."""
        found = []
        for ns, host, _, _ in self.watched:
            with netns.entered(ns):
                ipr = IPRoute()
            with ipr:
                names = {link["index"]: link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}
                for q in ipr.get_qdiscs():
                    kind = q.get_attr("TCA_KIND")
                    if kind not in DEFAULT_QDISCS:
                        found.append((host, names.get(q["index"], str(q["index"])), kind))
        return found

    def settled(self) -> None:
        """The links as they are now are the healthy ones (the lab converged): a bridge
        port still coming up when watching began (DOWN, then UP) is not a fault's debris."""
        self.initial.update(self.operstate)

    def link_changes(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(host, interface) -> (operstate when watching began, now) where they differ."""
        return {k: (self.initial[k], v) for k, v in self.operstate.items() if self.initial.get(k, v) != v}

    def ready(self, fd: int, data: object) -> None:
        ipr, host = data  # type: ignore[misc]
        for msg in ipr.get():
            self._handle(msg, host)

    def _handle(self, msg: dict, host: str) -> None:
        event = msg.get("event")
        if event in ("RTM_NEWADDR", "RTM_DELADDR") and msg.get("family") == socket.AF_INET:
            self.events.record(
                "addr", host=host, action="add" if event == "RTM_NEWADDR" else "del",
                address=msg.get_attr("IFA_ADDRESS"), ifname=msg.get_attr("IFA_LABEL"),
            )
        elif event in ("RTM_NEWNEIGH", "RTM_DELNEIGH") and msg.get("family") == socket.AF_INET:
            self._neighbour(msg, host, deleted=event == "RTM_DELNEIGH")
        elif event in ("RTM_NEWLINK", "RTM_DELLINK"):
            name = msg.get_attr("IFLA_IFNAME")
            state = "GONE" if event == "RTM_DELLINK" else msg.get_attr("IFLA_OPERSTATE")
            if self.operstate.get((host, name)) != state:
                self.operstate[(host, name)] = state
                self.events.record("link", host=host, ifname=name, state=state)

    def _neighbour(self, msg: dict, host: str, deleted: bool = False) -> None:
        """One ARP entry of `host`: which MAC it sends an address's traffic to, in what state."""
        state = "DELETED" if deleted else NUD.get(msg.get("state", 0), str(msg.get("state")))
        self.events.record("neigh", host=host, address=msg.get_attr("NDA_DST"), lladdr=msg.get_attr("NDA_LLADDR"),
                           state=state)

    def close(self) -> None:
        super().close()
        for ipr in self.sockets:
            ipr.close()
