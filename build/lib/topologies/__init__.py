"""Topologies: each module holds its addressing/roles data (`spec()`) and a Mininet Topo (`TOPO`)."""
from __future__ import annotations

import sys
from types import ModuleType

from labs import registry


def names() -> list[str]:
    return registry.names(sys.modules[__name__])


def load(name: str) -> ModuleType:
    return registry.load(sys.modules[__name__], name, "topology")
