"""lossy_link: a host's link loses a share of its packets (netem, both directions) for a
while; the target says which host and how much (`lvs1:20%`; `lvs1` alone is 20%).

Breaks: netem loss on both ends of the host's link for DURATION s. Every advert the host
sends or receives is lost with probability p. A backup declares its master dead after its
master-down interval (3 x advert_int + skew) without an advert: three adverts lost in a row.
Each such run of losses is a false failover — the VIP arrives on the backup while both
directors are up — and the master, hearing the backup's lower priority, wins it back.
The model counts them: over N adverts, runs of three losses start (1 - p) p^3 N times on
average; the verdict accepts the count 99.8% of runs would show (a Poisson interval), so
identical runs give identical verdicts but for 1 in 500. Clients lose packets all along:
measured, not judged, while the loss lasts.
Heals: netem removed; a false master still up yields.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from labs.analysis.expectations import Expectation, Moves, Window
from labs.analysis.model import Model
from labs.lab.faults import Impairment
from labs.plan.targets import ByRole

if TYPE_CHECKING:
    from labs.lab.lab import Lab

RATES = (5, 20, 50)  # % of packets lost; a host alone is 20%
TARGETS = ByRole(("director", "real_server"), ("", *(f":{r}%" for r in RATES)), default_suffix=":20%", keepalived=True)
DURATION = 20.0  # s of loss
OBSERVE_S = DURATION  # the inject phase lasts as long as the loss
LOST_IN_A_ROW = 3  # adverts: the master-down interval is 3 x advert_int + skew (< 4 x advert_int)
CONFIDENCE = 0.998


def parse(target: str) -> tuple[str, float]:
    host, _, rate = target.partition(":")
    return host, float(rate.rstrip("%") or 20) / 100


def inject(lab: "Lab", target: str) -> None:
    host, p = parse(target)
    fault = Impairment(lab, host, ["loss", f"{p * 100:g}%"])
    t = lab.fault("inject", f"netem loss {p:.0%} on both ends of {host}'s link for {DURATION:g} s")
    lab.annotate(t, applied_in_s=round(fault.apply(), 4))
    lab.faults[host] = fault


def heal(lab: "Lab", target: str) -> None:
    host, _ = parse(target)
    t = lab.fault("heal", f"netem removed from {host}'s link")
    lab.annotate(t, applied_in_s=round(lab.faults.pop(host).clear(), 4))


def poisson_interval(mean: float, confidence: float = CONFIDENCE) -> tuple[int, int]:
    """The counts a Poisson(mean) count falls in with `confidence` (equal tails)."""
    tail = (1 - confidence) / 2
    cdf, k, term, low = 0.0, 0, math.exp(-mean), None
    while True:
        cdf += term
        if low is None and cdf > tail:
            low = k
        if cdf >= 1 - tail:
            return low or 0, k
        k += 1
        term *= mean / k


def expect(model: Model, target: str) -> list[Expectation]:
    host, p = parse(target)
    out: list[Expectation] = []
    for inst in model.instances.values():
        if host not in inst.priorities:
            continue
        backup = inst.best_other(inst.master)
        adverts = DURATION / inst.advert_int
        mean = adverts * (1 - p) * p ** LOST_IN_A_ROW
        low, high = poisson_interval(mean)
        basis = (f"{adverts:g} adverts each lost with p={p:.0%}; {backup} takes over after {LOST_IN_A_ROW} lost in a row: "
                 f"expected {mean:.2f}, {CONFIDENCE:.1%} of runs {low}-{high}")
        out.append(Moves("inject", inst.vip, backup, low, high, basis))
        out += model.clients_after(inst.vip, "inject", Window(0.0, math.inf, f"{p:.0%} of packets lost for {DURATION:g} s"),
                                   judged=False)
        out += model.clients_after(inst.vip, "heal", model.after_two_masters(inst, model.yields(inst)))
    return out
