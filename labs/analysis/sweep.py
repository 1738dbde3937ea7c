"""A sweep's figures, read from its folder alone: for each value of the swept setting, each
run's failover (its scenario's first VIP move of the inject phase) against the model's
window, and what clients lived through in that phase.

Layout (written by labs.sweep): SWEEP/sweep.json names the setting and its values;
SWEEP/<name>=<value>/ is the results root of that value's `labs.run` (its run folders).
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from labs.common import tables
from labs.common.errors import LabError

HEADER = ("value", "runs", "failover median (s)", "each run (s; ? disturbed)", "model window (s)", "client failures (each run)",
          "verdicts")


def value_folder(sweep: Path, setting: str, value: str) -> Path:
    return sweep / f"{setting}={value}"


def _run_figures(summary: dict[str, Any]) -> dict[str, Any]:
    inject = next((p for p in summary.get("phases", []) if p["phase"] == "inject"), None)
    if inject is None:
        raise LabError(f"{summary.get('scenario')}: the run has no inject phase to measure")
    move = next((e for e in inject["expectations"] if e["kind"] == "move"), None)
    model = (move or {}).get("model") or {}
    clients = inject.get("clients", {})
    return {
        "what": move["what"] if move else None,
        "measured_s": move.get("measured_s") if move else None,
        "model_earliest_s": model.get("earliest_s"),
        "model_latest_s": model.get("latest_s"),
        "basis": model.get("basis", ""),
        "failed": sum(c["failed"] for c in clients.values()),
        "requests": sum(c["requests"] for c in clients.values()),
        "verdict": summary["verdict"],
        "disturbed": bool((summary.get("measurement") or {}).get("disturbed")),
    }


def collect(sweep: Path) -> dict[str, Any]:
    """sweep.json completed with every run's figures, from the run folders' summary.json."""
    doc = json.loads((sweep / "sweep.json").read_text())
    for entry in doc["values"]:
        root = value_folder(sweep, doc["setting"], entry["value"])
        summaries = sorted(root.glob(f"*-{doc['scenario_name']}*/summary.json")) if root.is_dir() else []
        entry["runs"] = [{"folder": str(p.parent.relative_to(sweep)), **_run_figures(json.loads(p.read_text()))}
                         for p in summaries]
    return doc


def _window(runs: list[dict[str, Any]]) -> str:
    lo = [r["model_earliest_s"] for r in runs if r["model_earliest_s"] is not None]
    hi = [r["model_latest_s"] for r in runs if r["model_latest_s"] is not None]
    return f"{min(lo):.2f}-{max(hi):.2f}" if lo and hi else "-"


def rows(doc: dict[str, Any]) -> list[list[object]]:
    out: list[list[object]] = []
    for entry in doc["values"]:
        runs = entry["runs"]
        measured = [r["measured_s"] for r in runs if r["measured_s"] is not None]
        verdicts = [r["verdict"] for r in runs]
        out.append([entry["value"], len(runs), f"{statistics.median(measured):.3f}" if measured else "-",
                    " ".join(f"{r['measured_s']:.2f}" + ("?" if r.get("disturbed") else "") for r in runs
                             if r["measured_s"] is not None) or "-", _window(runs),
                    " ".join(f"{r['failed']}/{r['requests']}" for r in runs) or "-",
                    ", ".join(f"{verdicts.count(v)} {v}" for v in sorted(set(verdicts))) or "no run"])
    return out


def table(doc: dict[str, Any]) -> str:
    return tables.render(HEADER, rows(doc))
