"""Topologies: each module declares its addressing and roles as data (`spec()`); the lab
turns a spec into Mininet's Topo (labs.lab.topo), so a topology imports nothing of Mininet."""
from __future__ import annotations

import sys
from types import ModuleType

from labs.common import registry


def names() -> list[str]:
    return registry.names(sys.modules[__name__])


def load(name: str) -> ModuleType:
    return registry.load(sys.modules[__name__], name, "topology")
