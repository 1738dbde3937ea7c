"""A run's plan from the model alone (no lab, no Mininet): how long each phase is
observed, how long the run takes, whether it may leave the clients pinned to one real
server. labs.lab.experiment follows it; labs.lab.jobs deals runs to labs side by side with it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from labs.analysis import model
from labs.analysis.expectations import Checker, Clients, Expectation, Stay

if TYPE_CHECKING:
    from labs.plan.scenario import Scenario

BASELINE = 3.0  # s of traffic before the fault: the "before" distribution
SETTLE = 2.0  # s observed past the model's latest time, so late moves are seen
AFTER = 3.0  # s of traffic after the lab re-converged: the "after" distribution


def baseline_seconds(scenario: "Scenario") -> float:
    """Traffic before the fault: BASELINE, or longer for a scenario that needs it (one
    whose long-lived connections must reach a spread of ages first: BASELINE_S)."""
    return max(BASELINE, scenario.baseline_s)


def observe_for(expectations: list[Expectation], phase: str, at_least: float = 0.0) -> float:
    """Past the latest time the model expects anything, or the scenario's own minimum."""
    latest = [e.observe_until for e in expectations if e.phase == phase]
    return max(max(latest, default=0.0) + SETTLE, at_least)


def phase_seconds(scenario: "Scenario", expectations: list[Expectation]) -> tuple[float, float]:
    """How long each phase is observed, counted from its fault event (an inject that takes
    time itself, like link_flap's flaps, is inside it: the model's windows count from there)."""
    heal_s = observe_for(expectations, "heal", scenario.observe_s) if scenario.heal is not None else 0.0
    return observe_for(expectations, "inject", scenario.observe_s), heal_s


def planned_seconds(scenario: "Scenario", m: model.Model, target: str) -> float:
    """A run's length on a converged lab, from the model (labs.lab.jobs balances jobs with it)."""
    inject_s, heal_s = phase_seconds(scenario, model.for_scenario(scenario, m, target))
    return baseline_seconds(scenario) + inject_s + heal_s + AFTER


def may_repin_clients(scenario: "Scenario", m: model.Model, target: str) -> bool:
    """Can the run leave the clients' addresses on one real server? With persistence, when
    the fault takes a real server out of IPVS (a checker's removal) or moves a real
    server's address: IPVS gives the addresses to the others and keeps them there for as
    long as their connection entries live (minutes in DR mode), so the next run on the same
    lab would need a fresh one (SharedLab.gate). labs.lab.jobs puts such runs last."""
    if not any((m.persistence or {}).values()):
        return False
    servers = {ip for ips in (m.real_servers or {}).values() for ip in ips}
    return any(isinstance(e, Checker) or getattr(e, "vip", "") in servers and not isinstance(e, (Stay, Clients))
               for e in model.for_scenario(scenario, m, target))
