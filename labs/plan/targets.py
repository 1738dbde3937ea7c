"""What a scenario can target on a given lab: its hosts of some roles, named after that lab's
hosts (a user's lab names them differently from dual_master's lvs1, server1, ...).

A scenario's `TARGETS` is either a `ByRole` (the targets follow from the lab's spec, the
default is the first host of the first role) or a fixed tuple of names with a
`DEFAULT_TARGET` among them (a user's file, or tiers such as multicast_blocked's);
labs.plan.scenario's `Scenario.targets`/`default_target` apply either to a lab.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from labs.common.errors import LabError

if TYPE_CHECKING:
    from labs.spec import LabSpec


@dataclass(frozen=True)
class ByRole:
    """Every host of `roles` (in that order, each role's hosts in the spec's order), with
    each of `suffixes`: the first suffix on every host, then each host with the others
    (`lvs1`, `lvs2`, ..., then `lvs1:5%`, `lvs1:20%`, `lvs2:5%`, ...)."""

    roles: tuple[str, ...]
    suffixes: tuple[str, ...] = ("",)
    default_suffix: str = ""
    # Only hosts that run keepalived (a lab file's plain LVS real server runs nginx alone).
    keepalived: bool = False
    # Only on labs with virtual servers (a lab file may have one VRRP tier and no LVS).
    lvs: bool = False
    # Only real servers whose keepalived runs a check script (what restarts nginx).
    check_script: bool = False

    def hosts(self, spec: "LabSpec") -> tuple[str, ...]:
        if self.lvs and not spec.virtual_servers:
            return ()
        return tuple(h.name for role in self.roles for h in spec.role(role)
                     if (not self.keepalived or spec.runs_keepalived(h.name))
                     and (not self.check_script or spec.runs_check_script(h.name)))

    def targets(self, spec: "LabSpec") -> tuple[str, ...]:
        hosts = self.hosts(spec)
        first, *others = self.suffixes
        return (*(h + first for h in hosts), *(h + s for h in hosts for s in others))

    def default(self, spec: "LabSpec") -> str:
        hosts = self.hosts(spec)
        if not hosts:
            needs = " with a check script" if self.check_script else " that runs keepalived" if self.keepalived else ""
            raise LabError(f"lab {spec.name} has no {' or '.join(self.roles)} host{needs} to target")
        return hosts[0] + self.default_suffix
