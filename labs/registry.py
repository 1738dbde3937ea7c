"""Topologies and scenarios are plain modules in their packages: list and load them by name."""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from labs.errors import LabError


def names(package: ModuleType) -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))


def load(package: ModuleType, name: str, what: str) -> ModuleType:
    """The module `name` of `package`, or a one-line error listing the known ones."""
    known = names(package)
    if name not in known:
        raise LabError(f"unknown {what} {name!r}; known: {', '.join(known) or 'none'} (see --list)")
    return importlib.import_module(f"{package.__name__}.{name}")
