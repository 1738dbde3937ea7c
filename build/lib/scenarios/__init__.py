"""Scenarios: one module per fault (what it breaks, how it heals, what it expects)."""
from __future__ import annotations

import sys
from types import ModuleType

from labs import registry


def names() -> list[str]:
    return registry.names(sys.modules[__name__])


def load(name: str) -> ModuleType:
    return registry.load(sys.modules[__name__], name, "scenario")
