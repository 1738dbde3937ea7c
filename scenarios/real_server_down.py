"""real_server_down: a real server stops answering HTTP while VRRP still sees it alive.

Breaks: a firewall rule in the target (nftables, or iptables-legacy) drops incoming TCP to port 80 (VRRP untouched, so
its VIP stays). Clients pinned to it time out until every director's TCP_CHECK gives up on
it and IPVS removes it; persistence then re-pins them.
Heals: the rule is removed; the next check re-adds the real server.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from labs.analysis.model import Checker, Expectation, Model, Stay
from labs.faults import DropRule, drop_rule

if TYPE_CHECKING:
    from labs.lab.lab import Lab

TARGETS = ("server1", "server2")
DEFAULT_TARGET = "server1"
RULES: dict[str, DropRule] = {}


def inject(lab: "Lab", target: str) -> None:
    rule = drop_rule(lab.node(target), "tcp dport 80", "-p tcp --dport 80")
    RULES[target] = rule
    t = lab.fault("inject", f"TCP port 80 dropped on {target} ({rule.method}); VRRP untouched", method=rule.method)
    lab.annotate(t, applied_in_s=round(rule.apply(), 4))


def heal(lab: "Lab", target: str) -> None:
    t = lab.fault("heal", f"TCP port 80 allowed again on {target}")
    lab.annotate(t, applied_in_s=round(RULES.pop(target).clear(), 4))


def expect(model: Model, target: str) -> list[Expectation]:
    out: list[Expectation] = []
    for inst in model.instances_mastered_by(target):
        rs = f"{inst.vip}:80"
        out.append(Stay("inject", inst.name, inst.vip, target))
        out.append(Checker("inject", rs, "DOWN", model.directors, model.checker_down()))
        out.append(Checker("heal", rs, "UP", model.directors, model.checker_up()))
    return out
