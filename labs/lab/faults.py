"""Fault primitives the scenarios combine: links, packet loss, firewall rules, kills.

Each acts inside one lab namespace (a host's, or the bridge's for the far end of a
host's link) through Mininet's node (mnexec) or netlink; nothing touches the host.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import TYPE_CHECKING, Callable

from labs.daemons.base import children, pid_alive, wait_gone
from labs.common.errors import LabError

if TYPE_CHECKING:
    from labs.daemons.base import Node
    from labs.lab.lab import Lab

BRIDGE_END = "@bridge"  # a link target: `lvs1` breaks the host's end of its link, `lvs1@bridge` the bridge's
NFT_TABLE = "halab_fault"
IPT_CHAIN = "HALAB_FAULT"


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
    # pyroute2 only when a link changes: scenarios import this module, and --list and the
    # analysis read scenarios without the lab's runtime installed
    from pyroute2 import IPRoute

    from labs.lab import netns  # pyroute2 too

    node, ifname = link_end(lab, target)
    with netns.entered(f"/proc/{node.pid}/ns/net"):
        ipr = IPRoute()
    with ipr:
        ipr.link("set", index=ipr.link_lookup(ifname=ifname)[0], state="up" if up else "down")
    return f"{ifname} in {node.name}'s namespace {'up' if up else 'down'}"


def _run(node: "Node", argv: list[str]) -> tuple[str, int]:
    out, err, code = node.pexec(argv)
    return (out + err).strip(), code


class Blackhole:
    """Everything to and from a host dropped while its carrier stays up: netem loss 100% on
    both ends of its link where the kernel has netem, else a drop rule in the host. The
    lab owns the handle (`Lab.faults`) and heals it, so nothing outlives a run."""

    def __init__(self, lab: "Lab", host: str) -> None:
        self.ends = {"out": link_end(lab, host), "in": link_end(lab, host + BRIDGE_END)}
        self.node = lab.node(host)
        self.rule: DropRule | None = None

    def apply(self) -> str:
        if all(_run(n, ["tc", "qdisc", "add", "dev", i, "root", "netem", "loss", "100%"])[1] == 0
               for n, i in self.ends.values()):
            return "netem loss 100% on both ends of the link"
        for n, i in self.ends.values():
            _run(n, ["tc", "qdisc", "del", "dev", i, "root"])
        node, ifname = self.ends["out"]
        device = device_drop(node, ifname)
        if device is not None:
            self.rule = device
            self.rule.apply()
            return f"{self.rule.method} drop of every frame on the host's interface (no netem in this kernel)"
        self.rule = drop_rule(self.node, "", "")
        self.rule.apply()
        return f"{self.rule.method} drop of IP traffic in the host (no netem, no netdev egress hook: ARP passes)"

    def open(self, direction: str) -> float:
        """Let traffic flow one way again ("in": to the host, "out": from it); seconds taken."""
        t = time.monotonic()
        if self.rule is not None:
            self.rule.open(direction)
        else:
            n, i = self.ends[direction]
            _run(n, ["tc", "qdisc", "del", "dev", i, "root"])
        return time.monotonic() - t

    def clear(self) -> float:
        return sum(self.open(d) for d in ("in", "out")) if self.rule is None else self.rule.clear()


class Impairment:
    """netem on both ends of a host's link (loss, delay, jitter: `netem_args` as tc takes
    them), owned by the lab like every fault. Needs netem (User-mode Linux has it)."""

    def __init__(self, lab: "Lab", host: str, netem_args: list[str]) -> None:
        self.ends = (link_end(lab, host), link_end(lab, host + BRIDGE_END))
        self.args = netem_args

    def apply(self) -> float:
        t = time.monotonic()
        for n, i in self.ends:
            out, code = _run(n, ["tc", "qdisc", "add", "dev", i, "root", "netem", *self.args])
            if code != 0:
                self.clear()
                raise LabError(f"netem {' '.join(self.args)} on {i}: {out} (this kernel has no sch_netem; --kernel uml has)")
        return time.monotonic() - t

    def clear(self) -> float:
        t = time.monotonic()
        for n, i in self.ends:
            _run(n, ["tc", "qdisc", "del", "dev", i, "root"])
        return time.monotonic() - t


class DropRule:
    """A drop rule for one host, prepared so that installing it is a single atomic call.
    The fault is recorded as the call starts and the call's duration noted after it
    (~0.3 s for iptables-legacy-restore under UML): the rule took effect in between, and
    the analysis widens the model's window by that much. Each direction can be reopened
    on its own (`open`), so a heal can restore one way before the other."""

    def __init__(self, node: "Node", method: str, install: tuple[list[str], str],
                 opener: Callable[[str], tuple[list[str], str]], remover: Callable[[set[str]], tuple[list[str], str]]) -> None:
        self.node, self.method, self.install = node, method, install
        self.opener, self.remover = opener, remover  # argv and stdin for one direction / the rest
        self.opened: set[str] = set()

    def apply(self) -> float:
        """Install the rule; returns how long the call took (it commits at its end)."""
        t = time.monotonic()
        out, code = _feed(self.node, *self.install)
        if code != 0:
            raise LabError(f"cannot install a drop rule in {self.node.name} with {self.method}: {out}")
        return time.monotonic() - t

    def open(self, direction: str) -> float:
        """Stop dropping in one direction ("in" or "out"); seconds the call took."""
        t = time.monotonic()
        _feed(self.node, *self.opener(direction))
        self.opened.add(direction)
        return time.monotonic() - t

    def clear(self) -> float:
        t = time.monotonic()
        _feed(self.node, *self.remover(self.opened))
        return time.monotonic() - t


def _feed(node: "Node", argv: list[str], stdin: str) -> tuple[str, int]:
    proc = node.popen(argv, stdin=subprocess.PIPE)
    out, err = proc.communicate(stdin.encode())
    return (out + err).decode(errors="replace").strip(), proc.returncode


def device_drop(node: "Node", ifname: str) -> DropRule | None:
    """Every frame in and out of `ifname` dropped — ARP and the gratuitous ARPs keepalived
    sends from a packet socket too, which IP rules never see — by nftables' netdev ingress
    and egress hooks (Linux 5.16+); None where the kernel lacks them (the UML kernel: it
    has netem, which the blackhole prefers)."""
    nft, table = ["nft", "-f", "-"], f"netdev {NFT_TABLE}_device"
    rules = (f"table {table} {{\n"
             f"  chain in {{ type filter hook ingress device \"{ifname}\" priority -500; policy drop; }}\n"
             f"  chain out {{ type filter hook egress device \"{ifname}\" priority -500; policy drop; }}\n"
             f"}}\n")
    if _feed(node, nft, rules + f"delete table {table}\n")[1] != 0:
        return None
    return DropRule(node, "nftables netdev", (nft, rules), lambda d: (nft, f"delete chain {table} {d}\n"),
                    lambda opened: (nft, f"delete table {table}\n"))


def drop_rule(node: "Node", nft_match: str, iptables_match: str) -> DropRule:
    """Drop matching packets in and out of `node` (empty match: everything): nftables
    where the kernel has its inet family, else iptables-legacy (Debian's UML kernel has
    nf_tables without the inet/ip families, but has ip_tables)."""
    probe = f"add table inet {NFT_TABLE}\ndelete table inet {NFT_TABLE}\n"
    nft = ["nft", "-f", "-"]
    if _feed(node, nft, probe)[1] == 0:
        rules = (f"table inet {NFT_TABLE} {{\n"
                 f"  chain in {{ type filter hook input priority -300; policy accept; {nft_match} drop; }}\n"
                 f"  chain out {{ type filter hook output priority -300; policy accept; {nft_match} drop; }}\n"
                 f"}}\n")
        return DropRule(node, "nftables", (nft, rules), lambda d: (nft, f"flush chain inet {NFT_TABLE} {d}\n"),
                        lambda _opened: (nft, f"delete table inet {NFT_TABLE}\n"))
    hooks = {"in": "INPUT", "out": "OUTPUT"}
    install = (f"*filter\n:{IPT_CHAIN} - [0:0]\n-A {IPT_CHAIN} {iptables_match} -j DROP\n"
               f"-I INPUT -j {IPT_CHAIN}\n-I OUTPUT -j {IPT_CHAIN}\nCOMMIT\n")
    restore = ["iptables-legacy-restore", "--noflush"]

    def remove(opened: set[str]) -> tuple[list[str], str]:
        jumps = "".join(f"-D {hooks[d]} -j {IPT_CHAIN}\n" for d in ("in", "out") if d not in opened)
        return restore, f"*filter\n{jumps}-F {IPT_CHAIN}\n-X {IPT_CHAIN}\nCOMMIT\n"

    return DropRule(node, "iptables-legacy", (restore, install),
                    lambda d: (restore, f"*filter\n-D {hooks[d]} -j {IPT_CHAIN}\nCOMMIT\n"), remove)


Fault = DropRule | Blackhole | Impairment  # what Lab.faults holds: both reopen one way (`open`) or fully (`clear`)


def inject_drop(lab: "Lab", host: str, what: str, nft_match: str, iptables_match: str) -> None:
    """Record and install a drop rule in `host` (one atomic call, its duration noted); the
    lab keeps it until a heal (or teardown) removes it."""
    rule = drop_rule(lab.node(host), nft_match, iptables_match)
    t = lab.fault("inject", f"{what} on {host} ({rule.method})", method=rule.method)
    lab.annotate(t, applied_in_s=round(rule.apply(), 4))
    lab.faults[host] = rule


def heal_drop(lab: "Lab", host: str, what: str) -> None:
    """Record and remove the drop rule `inject_drop` installed in `host`."""
    t = lab.fault("heal", f"{what} on {host}")
    lab.annotate(t, applied_in_s=round(lab.faults.pop(host).clear(), 4))


def heal_staged(lab: "Lab", host: str, what: str, first: str, then_after: float) -> None:
    """Record and remove `host`'s fault one direction at a time: `first` ("in" or "out"),
    then the other `then_after` seconds later. A partition that heals one way first is
    what decides which side of a VRRP pair hears the other first (see split_brain)."""
    fault = lab.faults.pop(host)
    other = "out" if first == "in" else "in"
    t = lab.fault("heal", f"{what} on {host}: {first}bound first, {other}bound {then_after:g} s later")
    applied = fault.open(first)
    time.sleep(then_after)
    lab.annotate(t, applied_in_s=round(applied + fault.clear(), 4), first=first,
                 second_at_s=round(time.time() - t, 4))


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
