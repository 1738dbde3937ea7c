"""Netlink monitors, one socket per lab namespace, read by one thread: every IPv4 address
added or removed (VIPs moving) and every link going up or down, stamped on arrival.

Kernel notifications, not polling: a VIP's arrival is seen within the thread's wake-up
latency, and nothing is missed between two polls.
"""
from __future__ import annotations

import selectors
import socket

from pyroute2 import IPRoute
from pyroute2.netlink.rtnl import RTMGRP_IPV4_IFADDR, RTMGRP_LINK

from labs.events import EventLog
from labs.lab import netns
from labs.lab.watch import SelectorThread


class NetlinkWatcher(SelectorThread):
    def __init__(self, events: EventLog) -> None:
        super().__init__(events, "netlink-watcher")
        self.sockets: list[IPRoute] = []
        self.operstate: dict[tuple[str, str], str] = {}

    def add(self, ns: str, host: str) -> None:
        """Watch namespace `ns` (a name or a namespace file) and call it `host` in events."""
        with netns.entered(ns):
            ipr = IPRoute()
        ipr.bind(groups=RTMGRP_IPV4_IFADDR | RTMGRP_LINK)
        for link in ipr.get_links():
            self.operstate[(host, link.get_attr("IFLA_IFNAME"))] = link.get_attr("IFLA_OPERSTATE")
        self.sockets.append(ipr)
        self.sel.register(ipr.fileno(), selectors.EVENT_READ, (ipr, host))

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
        elif event in ("RTM_NEWLINK", "RTM_DELLINK"):
            name = msg.get_attr("IFLA_IFNAME")
            state = "GONE" if event == "RTM_DELLINK" else msg.get_attr("IFLA_OPERSTATE")
            if self.operstate.get((host, name)) != state:
                self.operstate[(host, name)] = state
                self.events.record("link", host=host, ifname=name, state=state)

    def close(self) -> None:
        super().close()
        for ipr in self.sockets:
            ipr.close()
