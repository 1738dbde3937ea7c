"""Topologies and scenarios are plain modules in their packages: list and load them by name."""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from pathlib import Path
from types import ModuleType

from labs.common.errors import LabError


def names(package: ModuleType) -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))


def load(package: ModuleType, name: str, what: str) -> ModuleType:
    """The module `name` of `package` (or a file NAME.py of the user's), or a one-line
    error listing the known ones."""
    if name.endswith(".py"):
        return _load_file(Path(name), what)
    known = names(package)
    if name not in known:
        raise LabError(f"unknown {what} {name!r}; known: {', '.join(known) or 'none'} (see --list)")
    return importlib.import_module(f"{package.__name__}.{name}")


def _load_file(path: Path, what: str) -> ModuleType:
    """A user's own module, e.g. a scenario written for their configuration."""
    if not path.is_file():
        raise LabError(f"no {what} file {path}; give the path of a .py file, or a name from --list")
    spec = importlib.util.spec_from_file_location(f"halab_user_{what}_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:  # from its source, never a cached .pyc: a file rewritten within the same second must count
        exec(compile(path.read_bytes(), str(path), "exec"), module.__dict__)
    except Exception as e:
        raise LabError(f"{what} file {path} does not load: {type(e).__name__}: {e}") from None
    return module
