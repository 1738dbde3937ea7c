"""Mininet `Topo` for a `LabSpec` (every host on one Linux bridge) and its network.

The bridge lives in a namespace of its own (inNamespace=True), so the veth pairs are made
inside the lab's namespaces and the root namespace never sees a lab interface, bridge or
packet (Mininet would otherwise create the bridge and the switch ends in the host's).
"""
from __future__ import annotations

from subprocess import Popen

from mininet.link import Link
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import Host, Node
from mininet.nodelib import LinuxBridge
from mininet.topo import Topo
from pyroute2 import IPRoute

from labs.lab import netns
from labs.spec import LabSpec

SWITCH = "s1"


class PosixShell:
    """Mininet's shell in each node, run by `sh` (dash) instead of bash: Mininet drives it
    with POSIX commands only, and under User-mode Linux dash starts in 0.025 s against
    bash's 0.115 s (measured), once per host and once for the bridge. What a user types at
    the lab's CLI (`lvs1 ipvsadm -Ln`) runs in it too."""

    def _popen(self, cmd: list[str], **params: object) -> Popen[bytes]:
        if cmd[4:7] == ["bash", "--norc", "--noediting"]:  # the shell Node.startShell starts
            cmd = [*cmd[:4], "sh", *cmd[7:]]
        return super()._popen(cmd, **params)  # type: ignore[misc]


class LabHost(PosixShell, Host):
    """A Mininet host whose shell is `sh` (PosixShell)."""


class SingleSegmentTopo(Topo):
    """`build()` is a list of addHost/addLink calls, as Mininet topologies are."""

    def __init__(self, spec: LabSpec) -> None:
        self.spec = spec
        super().__init__()

    def build(self) -> None:
        self.addSwitch(SWITCH, cls=LabBridge, inNamespace=True, dpid="1")
        for host in self.spec.hosts:
            self.addHost(host.name, ip=self.spec.interface_address(host.ip))
            # up=None: no `ifconfig up` per end; LabNet.configHosts and LabBridge.start do it
            self.addLink(host.name, SWITCH, cls=LabLink, intfName1=self.spec.interface, up=None)


def _netlink(node: Node) -> IPRoute:
    """A netlink socket inside `node`'s network namespace."""
    with netns.entered(f"/proc/{node.pid}/ns/net"):
        return IPRoute()


class LabLink(Link):
    """Mininet's veth pair, made and deleted by one netlink request each (the peer goes
    with it) instead of `ip link del`, `ip link del`, `ip link add` processes in the ends'
    shells (~0.07 s a link under User-mode Linux). The nodes' namespaces are new, so there
    is nothing to delete first; each end is made in its own node's namespace."""

    @classmethod
    def makeIntfPair(cls, intfname1: str, intfname2: str, addr1: str | None = None, addr2: str | None = None,
                     node1: Node | None = None, node2: Node | None = None, deleteIntfs: bool = True) -> None:
        assert node1 is not None and node2 is not None  # SingleSegmentTopo links a host to the bridge
        peer: dict[str, object] = {"ifname": intfname2, "net_ns_pid": node2.pid}
        if addr2:
            peer["address"] = addr2
        with _netlink(node1) as ipr:
            ipr.link("add", ifname=intfname1, kind="veth", peer=peer, **({"address": addr1} if addr1 else {}))

    def delete(self) -> None:
        with _netlink(self.intf1.node) as ipr:
            found = ipr.link_lookup(ifname=self.intf1.name)
            if found:
                ipr.link("del", index=found[0])
        for intf in (self.intf1, self.intf2):
            intf.node.delIntf(intf)
        self.intf1 = self.intf2 = None


class LabBridge(PosixShell, LinuxBridge):
    """Mininet's Linux bridge (its shell `sh`: PosixShell), made and removed by netlink
    (pyroute2) instead of nine brctl/ifconfig processes in the bridge's shell (~0.05 s each
    under User-mode Linux)."""

    def start(self, _controllers: object) -> None:
        with _netlink(self) as ipr:
            ipr.link("add", ifname=self.name, kind="bridge")
            bridge = ipr.link_lookup(ifname=self.name)[0]
            for intf in self.intfList():
                if self.name in intf.name:
                    ipr.link("set", index=ipr.link_lookup(ifname=intf.name)[0], master=bridge, state="up")
            ipr.link("set", index=bridge, state="up")

    def stop(self, deleteIntfs: bool = True) -> None:
        with _netlink(self) as ipr:
            found = ipr.link_lookup(ifname=self.name)
            if found:
                ipr.link("del", index=found[0])
        super(LinuxBridge, self).stop(deleteIntfs)  # Switch.stop: ports left by links, if any


class LabNet(Mininet):
    """Mininet without its process-wide tuning (Mininet.init -> fixLimits).

    fixLimits raises this process's open-file limit to 16384 and the kernel's fs.file-max,
    net.core buffers, neighbour-table thresholds and kernel.pty.max. The first makes every
    node's shell slow to start: `mnexec -c` closes each descriptor up to the limit, one
    system call each, ~0.9 s per node under User-mode Linux (0.2 s with the default 1024;
    measured); the others, natively, would change the host's own sysctls, which the lab
    must leave alone. Five hosts and a bridge need none of it."""

    def __init__(self, **params: object) -> None:
        Mininet.inited = True  # the only switch Mininet offers: init() runs once per process
        super().__init__(**params)

    def configHosts(self) -> None:
        """Each host's declared address on its interface, the interface and lo up: by
        netlink in the host's namespace rather than an ifconfig process per setting."""
        for host in self.hosts:
            address, prefixlen = host.params["ip"].split("/")
            with _netlink(host) as ipr:
                lab_if = ipr.link_lookup(ifname=host.defaultIntf().name)[0]
                ipr.addr("add", index=lab_if, address=address, prefixlen=int(prefixlen))
                for index in (lab_if, ipr.link_lookup(ifname="lo")[0]):
                    ipr.link("set", index=index, state="up")


def build(spec: LabSpec) -> Mininet:
    """Create the hosts, the links and the bridge (no controller: a Linux bridge needs none)."""
    setLogLevel("error")
    net = LabNet(topo=SingleSegmentTopo(spec), host=LabHost, controller=None, autoSetMacs=False, build=False)
    net.build()
    net.start()  # starts the bridge
    return net
