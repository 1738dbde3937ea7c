"""real_server_down: a real server stops answering HTTP while VRRP still sees it alive.

Breaks: a firewall rule in the target (nftables, or iptables-legacy) drops incoming TCP to port 80 (VRRP untouched, so
its VIP stays). Clients pinned to it time out until every director's TCP_CHECK gives up on
it and IPVS removes it; persistence then re-pins them.
Heals: the rule is removed; the next check re-adds the real server. A real server reached at
its own address (no VRRP of its own) is judged the same way.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from labs.analysis.expectations import Checker, Expectation, Stay
from labs.analysis.model import Model
from labs.lab.faults import heal_drop, inject_drop
from labs.plan.targets import ByRole

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ByRole(("real_server",), lvs=True)  # it tests the directors' checkers


def inject(lab: "Lab", target: str) -> None:
    inject_drop(lab, target, "TCP port 80 dropped (VRRP untouched)", "tcp dport 80", "-p tcp --dport 80")


def heal(lab: "Lab", target: str) -> None:
    heal_drop(lab, target, "TCP port 80 allowed again")


def expect(model: Model, target: str) -> list[Expectation]:
    out: list[Expectation] = model.checker_removes(target, "port 80 dropped")  # a real server without VRRP
    for inst in model.instances_mastered_by(target):
        rs = f"{inst.vip}:80"
        out.append(Stay("inject", inst.name, inst.vip, target))
        down = model.checker_down()
        out.append(Checker("inject", rs, "DOWN", model.directors, down))
        out += model.clients_after(inst.vip, "inject", down, f"clients pinned to {rs} fail until every director's "
                                   f"checker removes it: {down.basis}")
        out.append(Checker("heal", rs, "UP", model.directors, model.checker_up()))
    return out
