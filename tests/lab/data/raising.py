"""raising: a scenario with a bug. It breaks the lab (stops keepalived on lvs1), then
raises: the run must still tear down, keep what it recorded, and say so in one line."""
from __future__ import annotations

from scenarios import stop_keepalived

TARGETS = ("lvs1",)
DEFAULT_TARGET = "lvs1"
expect = stop_keepalived.expect


def inject(lab, target: str) -> None:
    stop_keepalived.inject(lab, target)
    raise RuntimeError("a bug in the scenario after its fault was injected")


heal = stop_keepalived.heal
