"""Across runs: one summary table for a whole suite, and the spread of each figure over
repeats (min / median / p95 / max), from the runs' summary.json files alone."""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Sequence

from labs.analysis.summary import _s, cells, render_rows


def _client_worst(phase: dict[str, Any]) -> tuple[float, bool, int, int]:
    """The worst outage over the probed VIPs of a phase, and all failed/sent requests."""
    clients = phase["clients"].values()
    worst = max(clients, key=lambda c: c["outage_s"], default=None)
    return ((worst["outage_s"], worst["ongoing"]) if worst else (0.0, False)) + (
        sum(c["failed"] for c in clients), sum(c["requests"] for c in clients))


def rows(summaries: Sequence[dict[str, Any]]) -> list[list[str]]:
    """One row per expectation: scenario, phase, what, model window, measured, client outage, failed, verdict."""
    out = []
    for s in summaries:
        name = f"{s['scenario']}@{s['target']}"
        if not s.get("phases"):
            out.append([name, "-", "-", "-", "-", "-", "-", s["verdict"]])
        for p in s.get("phases", []):
            outage, ongoing, failed, sent = _client_worst(p)
            client = [_s(outage) + (" (ongoing)" if ongoing else ""), f"{failed}/{sent}"]
            for e in p["expectations"]:
                what, window, measured, verdict = cells(e)
                out.append([name, p["phase"], what, window, measured, *client, verdict])
    return out


def table(summaries: Sequence[dict[str, Any]]) -> str:
    return render_rows(rows(summaries))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def spread(values: Sequence[float]) -> dict[str, float | int]:
    return {"n": len(values), "min": min(values), "median": percentile(values, 50),
            "p95": percentile(values, 95), "max": max(values)}


def repeat_stats(summaries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per scenario/target/phase/expectation: the spread of the measured time, of the
    worst client outage and of the failed requests over the repeated runs."""
    figures: dict[tuple[str, str, str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for s in summaries:
        for p in s.get("phases", []):
            outage, _, failed, _ = _client_worst(p)
            for e in p["expectations"]:
                key = (s["scenario"], s["target"], p["phase"], e["what"])
                if e.get("measured_s") is not None:
                    figures[key]["measured_s"].append(e["measured_s"])
                figures[key]["client_outage_s"].append(outage)
                figures[key]["failed_requests"].append(failed)
    return [{"scenario": k[0], "target": k[1], "phase": k[2], "what": k[3],
             **{name: spread(vals) for name, vals in v.items() if vals}} for k, v in figures.items()]


def repeat_table(stats: Sequence[dict[str, Any]]) -> str:
    head = ["scenario", "phase", "what", "figure", "n", "min", "median", "p95", "max"]
    body = []
    for st in stats:
        for fig in ("measured_s", "client_outage_s", "failed_requests"):
            if fig in st:
                v = st[fig]
                body.append([f"{st['scenario']}@{st['target']}", st["phase"], st["what"], fig, str(v["n"]),
                             *(f"{v[k]:.3f}" if fig != "failed_requests" else f"{v[k]:g}" for k in ("min", "median", "p95", "max"))])
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), fmt.format(*("-" * w for w in widths)), *(fmt.format(*r) for r in body)])

