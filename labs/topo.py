"""Mininet `Topo` for a `LabSpec` (every host on one Linux bridge) and its network.

The bridge lives in a namespace of its own (inNamespace=True), so the veth pairs are made
inside the lab's namespaces and the root namespace never sees a lab interface, bridge or
packet (Mininet would otherwise create the bridge and the switch ends in the host's).
"""
from __future__ import annotations

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import Topo

from labs.spec import LabSpec

SWITCH = "s1"


class SingleSegmentTopo(Topo):
    """`build()` is a list of addHost/addLink calls, as Mininet topologies are."""

    def __init__(self, spec: LabSpec) -> None:
        self.spec = spec
        super().__init__()

    def build(self) -> None:
        self.addSwitch(SWITCH, cls=LinuxBridge, inNamespace=True, dpid="1")
        for host in self.spec.hosts:
            self.addHost(host.name, ip=self.spec.interface_address(host.ip))
            self.addLink(host.name, SWITCH, intfName1=self.spec.interface)


def build(spec: LabSpec) -> Mininet:
    """Create the hosts, the links and the bridge (no controller: a Linux bridge needs none)."""
    setLogLevel("error")
    net = Mininet(topo=SingleSegmentTopo(spec), controller=None, autoSetMacs=False, build=False)
    net.build()
    net.start()  # starts the bridge
    return net
