"""Across runs: one summary table for a whole suite, and the spread of each figure over
repeats (min / median / p95 / max), from the runs' summary.json files alone."""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any, Sequence

from labs.common import tables
from labs.analysis import summary
from labs.analysis.expectations import described


def rows(summaries: Sequence[dict[str, Any]]) -> list[list[str]]:
    """Every run's rows (as in its own table); a run with no phase (bring-up failed) gets one."""
    out = []
    for s in summaries:
        failed_bring_up = [f"{s['scenario']}@{s['target']}", "-", "-", "-", "-", "-", "-", s["verdict"]]
        out += summary.rows(s) if s.get("phases") else [failed_bring_up]
    return out


def table(summaries: Sequence[dict[str, Any]]) -> str:
    return summary.render_rows(rows(summaries))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def spread(values: Sequence[float]) -> dict[str, float | int]:
    return {"n": len(values), "min": min(values), "median": percentile(values, 50),
            "p95": percentile(values, 95), "max": max(values)}


NAMED = ("scenario", "target", "phase", "what", "verdicts")  # a repeat_stats entry's keys besides its figures


def repeat_stats(summaries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per scenario/target/phase/expectation: the verdicts over the repeated runs and the
    spread of the kind's figure (a time, a count, a share; for a client expectation also
    of its failed requests)."""
    figures: dict[tuple[str, str, str, str], dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for s in summaries:
        for p in s.get("phases", []):
            for e in p["expectations"]:
                key = (s["scenario"], s["target"], p["phase"], e["what"])
                figures[key]["verdicts"].append(e["verdict"])
                kind = described(e)
                value = kind.value(e)
                if kind.figure and value is not None:
                    figures[key][kind.figure].append(value)
                if kind.client_figures:
                    figures[key]["failed_requests"].append(e["failed"])
    return [{"scenario": k[0], "target": k[1], "phase": k[2], "what": k[3], "verdicts": dict(Counter(v["verdicts"])),
             **{name: spread(vals) for name, vals in v.items() if vals and name != "verdicts"}} for k, v in figures.items()]


def repeat_table(stats: Sequence[dict[str, Any]]) -> str:
    head = ["scenario", "phase", "what", "verdicts", "figure", "n", "min", "median", "p95", "max"]
    body = []
    for st in stats:
        verdicts = ", ".join(f"{n} {v}" for v, n in sorted(st["verdicts"].items()))
        figs = [f for f in st if f not in NAMED] or [None]
        for fig in figs:
            if fig is None:
                body.append([f"{st['scenario']}@{st['target']}", st["phase"], st["what"], verdicts, "-", "-", "-", "-", "-", "-"])
                continue
            v = st[fig]
            body.append([f"{st['scenario']}@{st['target']}", st["phase"], st["what"], verdicts, fig, str(v["n"]),
                         *(f"{v[k]:g}" if isinstance(v[k], int) else f"{v[k]:.3f}" for k in ("min", "median", "p95", "max"))])
    return tables.render(head, body)
