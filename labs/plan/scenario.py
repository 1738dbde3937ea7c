"""A scenario as one checked record: what halab reads of a scenario module, read once.

A scenario stays a plain module (scenarios/NAME.py, or a user's file given by its path) of
the shape scenarios/stop_keepalived.py shows: TARGETS, inject, heal, expect, and optional
constants (NEEDS_PROBE, OBSERVE_S, BASELINE_S, CONNECTIONS, CONNECTION_INTERVAL,
OPEN_OVER_S). `load` checks it when it is loaded, so a missing or mistyped part is one line
before any lab is built rather than a traceback halfway through a run, and everything that
runs, plans or analyses a scenario takes the `Scenario` record with every default applied.

Importing this module imports no lab runtime (Mininet, pyroute2, labs.lab): the analysis
loads scenarios for their `expect` alone (the scenario modules import what they need).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable

import scenarios as package
from labs.common import registry
from labs.common.errors import LabError
from labs.probes import connections as connection_probe
from labs.plan.targets import ByRole

if TYPE_CHECKING:
    from labs.analysis.expectations import Expectation
    from labs.analysis.model import Model
    from labs.spec import LabSpec

SHAPE = "see scenarios/stop_keepalived.py for the shape"
REQUIRED = ("TARGETS", "inject", "heal", "expect")  # and DEFAULT_TARGET beside a tuple of names


@dataclass(frozen=True)
class Scenario:
    """One scenario: where it came from, what it targets, its actions and its settings."""

    name: str  # the module's name, or a user's file's stem: folder names and messages
    source: str  # what `load` takes to find it again (a file's absolute path): run.json's `scenario`
    summary: str  # its docstring's first paragraph after "NAME: " (--list)
    rule: ByRole | tuple[str, ...]  # TARGETS: roles of the lab's hosts, or fixed names
    default: str | None  # DEFAULT_TARGET beside fixed names; None beside a ByRole (it has its own)
    inject: Callable[..., None]  # (lab, target), or (lab, target, probe) with needs_probe
    heal: Callable[..., None] | None  # None: the fault heals by itself (or the lab does)
    expect: Callable[["Model", str], list["Expectation"]]
    needs_probe: bool = False  # inject/heal change the running probe, so they are handed it
    observe_s: float = 0.0  # each phase observed at least this long, whatever the model says
    baseline_s: float = 0.0  # traffic before the fault at least this long (labs.plan.phases.BASELINE otherwise)
    connections: int = 0  # keep-alive connections per LVS VIP (labs.probes.connections); 0: none
    connection_interval: float = connection_probe.INTERVAL  # s between requests on one of those connections
    open_over_s: float = 0.0  # the connections of a VIP are opened evenly over this span

    def targets(self, spec: "LabSpec") -> tuple[str, ...]:
        """The targets it takes on the lab `spec` (a user's lab names its hosts its own way)."""
        return self.rule.targets(spec) if isinstance(self.rule, ByRole) else self.rule

    def default_target(self, spec: "LabSpec") -> str:
        """The target it breaks on the lab `spec` when none is given."""
        if isinstance(self.rule, ByRole):
            return self.rule.default(spec)
        assert self.default is not None  # load() refuses fixed names without one
        return self.default


# The optional constants: (constant, field, kind; float takes any number), each field's default above.
OPTIONAL: tuple[tuple[str, str, type], ...] = (
    ("NEEDS_PROBE", "needs_probe", bool), ("OBSERVE_S", "observe_s", float), ("BASELINE_S", "baseline_s", float),
    ("CONNECTIONS", "connections", int), ("CONNECTION_INTERVAL", "connection_interval", float),
    ("OPEN_OVER_S", "open_over_s", float),
)


def names() -> list[str]:
    """The built-in scenarios (scenarios/*.py)."""
    return registry.names(package)


def load(name: str) -> Scenario:
    """The scenario `name` (built in, or a user's file NAME.py), checked: a module that lacks
    a part or has one of the wrong kind is one LabError line saying which."""
    source = str(Path(name).resolve()) if name.endswith(".py") else name  # absolute: analysis finds it again
    return _record(registry.load(package, source, "scenario"), source)


def _record(module: ModuleType, source: str) -> Scenario:
    """The record of a loaded scenario module, or the one line saying what it lacks or has wrong."""
    found: dict[str, Any] = vars(module)

    def wrong(what: str) -> LabError:
        return LabError(f"scenario {source} {what}; {SHAPE}")

    missing = [a for a in REQUIRED if a not in found]
    rule = found.get("TARGETS")
    if isinstance(rule, (tuple, list)) and "DEFAULT_TARGET" not in found:  # names: which one is the default?
        missing.insert(1, "DEFAULT_TARGET")
    if missing:
        raise wrong(f"lacks {', '.join(missing)}")
    default = found.get("DEFAULT_TARGET")
    if isinstance(rule, ByRole):
        if "DEFAULT_TARGET" in found:  # a host name here would defeat the roles
            raise wrong("has TARGETS = ByRole(...), which sets the default (its first role's first host): "
                        "drop DEFAULT_TARGET, or list TARGETS as names")
    elif isinstance(rule, (tuple, list)) and rule and all(isinstance(t, str) for t in rule):
        rule = tuple(rule)
        if default not in rule:
            raise wrong(f"has DEFAULT_TARGET = {default!r}, not one of its TARGETS ({', '.join(rule)})")
    else:
        raise wrong(f"has TARGETS = {rule!r}: give a labs.plan.targets.ByRole or a tuple of target names")
    for part in ("inject", "expect"):
        if not callable(found[part]):
            raise wrong(f"has {part} = {found[part]!r}: it must be a function")
    if found["heal"] is not None and not callable(found["heal"]):
        raise wrong(f"has heal = {found['heal']!r}: it must be a function, or None when nothing is to heal")
    settings: dict[str, Any] = {}
    for constant, field, kind in OPTIONAL:
        if constant in found:
            settings[field] = _setting(constant, found[constant], kind, wrong)
    summary = " ".join((module.__doc__ or "").split("\n\n")[0].split()).split(": ", 1)[-1]
    return Scenario(name=Path(source).stem, source=source, summary=summary, rule=rule, default=default,
                    inject=found["inject"], heal=found["heal"], expect=found["expect"], **settings)


def _setting(constant: str, value: object, kind: type, wrong: Callable[[str], LabError]) -> object:
    """An optional constant's value, checked against its kind (a count, seconds, a flag)."""
    if kind is bool:
        if not isinstance(value, bool):
            raise wrong(f"has {constant} = {value!r}: give True or False")
        return value
    if isinstance(value, bool) or not isinstance(value, int if kind is int else (int, float)) or value < 0:
        raise wrong(f"has {constant} = {value!r}: give {'a count' if kind is int else 'a number of seconds'}, 0 or more")
    return kind(value)


@dataclass(frozen=True)
class Entry:
    """One scenario as the listings show it, on one lab."""

    name: str
    summary: str
    targets: tuple[str, ...]
    default: str | None  # None: the lab has no host it can target


def catalogue(spec: "LabSpec") -> list[Entry]:
    """Every built-in scenario with its targets on the lab `spec` (--list, --list --json, the
    interactive lab's `fail`)."""
    out = []
    for name in names():
        scenario = load(name)
        found = scenario.targets(spec)
        out.append(Entry(name, scenario.summary, found, scenario.default_target(spec) if found else None))
    return out
