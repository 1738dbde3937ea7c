"""`python -m labs.compare RUN_A RUN_B`: what changed between two runs (e.g. two config
versions), figure by figure, and both timelines aligned at the fault. Files only."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from labs import plots
from labs.analysis import data
from labs.analysis.summary import _s
from labs.analyze import analyze
from labs.errors import LabError


def _summary(folder: Path) -> dict[str, Any]:
    data.load(folder)  # one-line error if it is not a results folder
    path = folder / "summary.json"
    return json.loads(path.read_text()) if path.exists() else analyze(folder)


def figures(summary: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(phase, what) -> measured value, model window, verdict; plus the clients' view per VIP."""
    out = {}
    for p in summary.get("phases", []):
        for e in p["expectations"]:
            out[(p["phase"], e["what"])] = {"value": e.get("count") if e["kind"] == "moves" else e.get("measured_s"),
                                            "model": e.get("model"), "verdict": e["verdict"]}
        for vip, c in p["clients"].items():
            out[(p["phase"], f"{vip} client outage")] = {"value": c["outage_s"], "model": None, "verdict": ""}
            out[(p["phase"], f"{vip} failed requests")] = {"value": c["failed"], "model": None, "verdict": ""}
    return out


def changes(a: dict[str, Any], b: dict[str, Any]) -> list[list[str]]:
    fa, fb = figures(a), figures(b)
    rows = []
    for key in list(dict.fromkeys([*fa, *fb])):
        va, vb = fa.get(key, {}).get("value"), fb.get(key, {}).get("value")
        delta = "-" if va is None or vb is None else f"{vb - va:+.3f}"
        window = lambda f: f"{f['model']['earliest_s']:.2f}-{f['model']['latest_s']:.2f}s" if f and f.get("model") else "-"  # noqa: E731
        rows.append([key[0], key[1], _value(va), _value(vb), delta, window(fa.get(key)), window(fb.get(key)),
                     f"{fa.get(key, {}).get('verdict', '-')}/{fb.get(key, {}).get('verdict', '-')}"])
    return rows


def _value(v: float | int | None) -> str:
    return str(v) if isinstance(v, int) else _s(v)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m labs.compare", description=__doc__.split("\n")[0].strip("`"))
    p.add_argument("run_a", type=Path)
    p.add_argument("run_b", type=Path)
    p.add_argument("--out", type=Path, help="folder for compare.png/.svg (default: RUN_B)")
    args = p.parse_args(argv)
    try:
        a, b = _summary(args.run_a), _summary(args.run_b)
        runs = [(f"A {args.run_a.resolve().name}", data.load(args.run_a)), (f"B {args.run_b.resolve().name}", data.load(args.run_b))]
    except LabError as e:
        print(f"python -m labs.compare: error: {e}", file=sys.stderr)
        return 2
    header = ["phase", "figure", "A", "B", "B-A", "model A", "model B", "verdict A/B"]
    rows = changes(a, b)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    print("\n".join([f"A: {a.get('scenario')}@{a.get('target')} ({args.run_a})", f"B: {b.get('scenario')}@{b.get('target')} ({args.run_b})",
                     fmt.format(*header), fmt.format(*("-" * w for w in widths)), *(fmt.format(*r) for r in rows)]))
    out = args.out or args.run_b
    out.mkdir(parents=True, exist_ok=True)
    made = plots.save(plots.aligned(runs), out, "compare")
    print(f"timelines aligned at the fault: {made[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
