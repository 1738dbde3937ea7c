"""Reads the lab's state: who holds which VIP, IPVS tables, which server answers HTTP.

Addresses come from netlink inside each namespace (pyroute2), IPVS tables from ipvsadm
(what an operator would run), HTTP from sockets opened inside the client's namespace.
"""
from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass

from pyroute2 import IPRoute

from labs.daemons.base import Node
from labs.daemons.nginx import SERVED_BY
from labs.lab import netns
from labs.common.requirements import IPVSADM


def addresses(ns: str, ifname: str) -> list[str]:
    """IPv4 addresses on `ifname` inside namespace `ns`."""
    with netns.entered(ns):
        ipr = IPRoute()
    with ipr:
        idx = ipr.link_lookup(ifname=ifname)
        if not idx:
            return []
        return [a.get_attr("IFA_ADDRESS") for a in ipr.get_addr(family=socket.AF_INET, index=idx[0])]


def ipvs_table(node: Node) -> dict[str, list[str]]:
    """`ipvsadm -Ln` as {"vip:port": ["real:port", ...]}."""
    out, err, code = node.pexec([IPVSADM, "-Ln"])
    if code != 0:
        return {"error": [" ".join(err.split())]}
    table: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        words = line.split()
        if words[:1] in (["TCP"], ["UDP"]):
            current = words[1]
            table[current] = []
        elif words[:1] == ["->"] and current and words[1][0].isdigit():
            table[current].append(words[1])
    return table


@dataclass(frozen=True)
class Answer:
    vip: str
    source: str
    server: str | None  # from the X-Served-By header
    status: int | None
    error: str | None


def http_get(ns: str, source: str, vip: str, port: int = 80, timeout: float = 1.0) -> Answer:
    """One GET on a new connection from `source` inside namespace `ns`."""
    conn = http.client.HTTPConnection(vip, port, timeout=timeout, source_address=(source, 0))
    try:
        with netns.entered(ns):
            conn.connect()
        conn.request("GET", "/", headers={"Connection": "close"})
        resp = conn.getresponse()
        resp.read()
        return Answer(vip, source, resp.getheader(SERVED_BY), resp.status, None)
    except (OSError, http.client.HTTPException) as e:
        return Answer(vip, source, None, None, type(e).__name__)
    finally:
        conn.close()
