"""persistence: how requests spread over the real servers from one client address vs all nine.

Breaks: nothing; the probe switches to the client's own address alone. With the seed's
persistence_timeout 5 every connection of one client address goes to the server it was
pinned to: one client sees no balancing at all. With persistence off (--variant
no_persistence) rr/wrr alternate per connection.
Heals: the probe goes back to all client addresses: with persistence they are spread
address by address, without it connection by connection.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from labs.analysis.expectations import Expectation, Share, Window
from labs.analysis.model import Model
from labs.plan.targets import ByRole

if TYPE_CHECKING:
    from labs.lab.experiment import ProbeProcess
    from labs.lab.lab import Lab

TARGETS = ByRole(("client",), lvs=True)
NEEDS_PROBE = True  # it changes the probe's client addresses: inject/heal are handed the probe
OBSERVE_S = 8.0  # per phase: longer than persistence_timeout, so old templates expire


def inject(lab: "Lab", target: str, probe: "ProbeProcess") -> None:
    source = lab.spec.client.ip
    lab.fault("inject", f"probing from one client address ({source})")
    probe.restart((source,))


def heal(lab: "Lab", target: str, probe: "ProbeProcess") -> None:
    sources = lab.spec.client.source_ips
    lab.fault("heal", f"probing from all {len(sources)} client addresses")
    probe.restart(sources)


def expect(model: Model, target: str) -> list[Expectation]:
    out: list[Expectation] = []
    for vip, timeout in (model.persistence or {}).items():
        if timeout:
            one = Window(1.0, 1.0, f"persistence_timeout {timeout:g}: one address, one server")
        else:
            one = Window(0.4, 0.6, "no persistence: rr/wrr with equal weights alternate per connection")
        out.append(Share("inject", vip, one))
        # nine addresses on two servers: at best 5 of 9 on one (0.56) if spread by address,
        # 0.5 if per connection; 0.7 leaves room for the probe's uneven last round
        out.append(Share("heal", vip, Window(0.4, 0.7, "many addresses: spread over both servers")))
    return out
