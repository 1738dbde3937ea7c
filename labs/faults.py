"""Fault primitives the scenarios combine: links, packet loss, firewall rules, kills.

Each acts inside one lab namespace (a host's, or the bridge's for the far end of a
host's link) through Mininet's node (mnexec) or netlink; nothing touches the host.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyroute2 import IPRoute

from labs.daemons.base import children, pid_alive, wait_gone
from labs.errors import LabError
from labs.lab import netns

if TYPE_CHECKING:
    from labs.daemons.base import Node
    from labs.lab.lab import Lab

BRIDGE_END = "@bridge"
NFT_TABLE = "halab_fault"
IPT_CHAIN = "HALAB_FAULT"
_drop_rules: dict[str, "DropRule"] = {}  # host -> the rule a scenario installed there
_blackhole_rules: dict[str, "DropRule"] = {}


def link_targets(hosts: tuple[str, ...]) -> tuple[str, ...]:
    """`lvs1` breaks the host's end of its link, `lvs1@bridge` the bridge's end."""
    return (*hosts, *(h + BRIDGE_END for h in hosts))


def host_of(target: str) -> str:
    return target.removesuffix(BRIDGE_END)


def link_end(lab: "Lab", target: str) -> tuple["Node", str]:
    """(node, interface) of the chosen end of the target host's link."""
    host = host_of(target)
    if not target.endswith(BRIDGE_END):
        return lab.node(host), lab.spec.interface
    assert lab.net is not None
    node = lab.node(host)
    (link,) = lab.net.linksBetween(node, lab.net.switches[0])
    far = link.intf2 if link.intf1.node is node else link.intf1
    return far.node, far.name


def set_link(lab: "Lab", target: str, up: bool) -> str:
    node, ifname = link_end(lab, target)
    with netns.entered(f"/proc/{node.pid}/ns/net"):
        ipr = IPRoute()
    with ipr:
        ipr.link("set", index=ipr.link_lookup(ifname=ifname)[0], state="up" if up else "down")
    return f"{ifname} in {node.name}'s namespace {'up' if up else 'down'}"


def _run(node: "Node", argv: list[str]) -> tuple[str, int]:
    out, err, code = node.pexec(argv)
    return (out + err).strip(), code


def blackhole(lab: "Lab", host: str, on: bool) -> str:
    """Drop everything to and from `host` while its carrier stays up: netem loss 100% on
    both ends of its link where the kernel has netem, else an nftables drop in the host."""
    ends = (link_end(lab, host), link_end(lab, host + BRIDGE_END))
    if on:
        if all(_run(n, ["tc", "qdisc", "add", "dev", i, "root", "netem", "loss", "100%"])[1] == 0 for n, i in ends):
            return "netem loss 100% on both ends of the link"
        for n, i in ends:
            _run(n, ["tc", "qdisc", "del", "dev", i, "root"])
        rule = drop_rule(lab.node(host), "", "")
        rule.apply()
        _blackhole_rules[host] = rule
        return f"{rule.method} drop of all traffic in the host (no netem in this kernel)"
    for n, i in ends:
        _run(n, ["tc", "qdisc", "del", "dev", i, "root"])
    if host in _blackhole_rules:
        _blackhole_rules.pop(host).clear()
    return "blackhole removed"


@dataclass(frozen=True)
class DropRule:
    """A drop rule for one host, prepared so that installing it is a single atomic call.
    The fault is recorded as the call starts and the call's duration noted after it
    (~0.3 s for iptables-legacy-restore under UML): the rule took effect in between, and
    the analysis widens the model's window by that much."""

    node: "Node"
    method: str  # "nftables" | "iptables-legacy"
    install: tuple[list[str], str]  # argv, stdin
    remove: tuple[list[str], str]

    def apply(self) -> float:
        """Install the rule; returns how long the call took (it commits at its end)."""
        t = time.monotonic()
        out, code = _feed(self.node, *self.install)
        if code != 0:
            raise LabError(f"cannot install a drop rule in {self.node.name} with {self.method}: {out}")
        return time.monotonic() - t

    def clear(self) -> float:
        t = time.monotonic()
        _feed(self.node, *self.remove)
        return time.monotonic() - t


def _feed(node: "Node", argv: list[str], stdin: str) -> tuple[str, int]:
    proc = node.popen(argv, stdin=subprocess.PIPE)
    out, err = proc.communicate(stdin.encode())
    return (out + err).decode(errors="replace").strip(), proc.returncode


def drop_rule(node: "Node", nft_match: str, iptables_match: str) -> DropRule:
    """Drop matching packets in and out of `node` (empty match: everything): nftables
    where the kernel has its inet family, else iptables-legacy (Debian's UML kernel has
    nf_tables without the inet/ip families, but has ip_tables)."""
    probe = f"add table inet {NFT_TABLE}\ndelete table inet {NFT_TABLE}\n"
    if _feed(node, ["nft", "-f", "-"], probe)[1] == 0:
        rules = (f"table inet {NFT_TABLE} {{\n"
                 f"  chain in {{ type filter hook input priority -300; policy accept; {nft_match} drop; }}\n"
                 f"  chain out {{ type filter hook output priority -300; policy accept; {nft_match} drop; }}\n"
                 f"}}\n")
        return DropRule(node, "nftables", (["nft", "-f", "-"], rules),
                        (["nft", "-f", "-"], f"delete table inet {NFT_TABLE}\n"))
    install = (f"*filter\n:{IPT_CHAIN} - [0:0]\n-A {IPT_CHAIN} {iptables_match} -j DROP\n"
               f"-I INPUT -j {IPT_CHAIN}\n-I OUTPUT -j {IPT_CHAIN}\nCOMMIT\n")
    remove = (f"*filter\n-D INPUT -j {IPT_CHAIN}\n-D OUTPUT -j {IPT_CHAIN}\n"
              f"-F {IPT_CHAIN}\n-X {IPT_CHAIN}\nCOMMIT\n")
    restore = ["iptables-legacy-restore", "--noflush"]
    return DropRule(node, "iptables-legacy", (restore, install), (restore, remove))


def inject_drop(lab: "Lab", host: str, what: str, nft_match: str, iptables_match: str) -> None:
    """Record and install a drop rule in `host` (one atomic call, its duration noted)."""
    rule = drop_rule(lab.node(host), nft_match, iptables_match)
    t = lab.fault("inject", f"{what} on {host} ({rule.method})", method=rule.method)
    lab.annotate(t, applied_in_s=round(rule.apply(), 4))
    _drop_rules[host] = rule


def heal_drop(lab: "Lab", host: str, what: str) -> None:
    """Record and remove the drop rule `inject_drop` installed in `host`."""
    t = lab.fault("heal", f"{what} on {host}")
    lab.annotate(t, applied_in_s=round(_drop_rules.pop(host).clear(), 4))


def kill_tree(pid: int | None) -> list[int]:
    """SIGKILL a process and its children (keepalived's VRRP and checker processes), as a
    crash would. All are frozen first: keepalived's children get SIGTERM when their parent
    dies (PR_SET_PDEATHSIG) and would leave gracefully, and the parent respawns a child
    that dies first."""
    if not pid or not pid_alive(pid):
        return []
    pids = [*children(pid), pid]
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
    for p in pids:
        wait_gone(p, 5.0)
    return pids
