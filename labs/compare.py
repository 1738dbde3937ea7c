"""`python -m labs.compare RUN_A RUN_B`: what changed between two runs (e.g. two config
versions), figure by figure, and both timelines aligned at the fault. Files only."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from labs.report import charts

from labs.common import tables
from labs.analysis import data
from labs.analysis.expectations import described, seconds
from labs.analyze import analyze
from labs.common import results
from labs.common.command import Parser, describe, entry


def _summary(folder: Path) -> dict[str, Any]:
    data.load(folder)  # one-line error if it is not a results folder
    path = folder / "summary.json"
    return json.loads(path.read_text()) if path.exists() else analyze(folder)


def figures(summary: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(phase, what) -> the expectation's figure (its kind's `value`: a time, a count, a
    share, or none) as a number and as shown, its model window as shown, its verdict; plus
    the clients' view per VIP."""
    out = {}
    for p in summary.get("phases", []):
        for e in p["expectations"]:
            kind = described(e)
            window, shown = (_window(e.get("model")), _value(kind.value(e))) if kind.timed else kind.cells(e)
            out[(p["phase"], e["what"])] = {"value": kind.value(e), "shown": shown, "window": window,
                                            "verdict": e["verdict"]}
        for vip, c in p["clients"].items():
            for what, v in ((f"{vip} clients whole after", c["whole_after_s"]), (f"{vip} failed requests", c["failed"])):
                out[(p["phase"], what)] = {"value": v, "shown": _value(v), "window": "-", "verdict": ""}
    return out


def changes(a: dict[str, Any], b: dict[str, Any]) -> list[list[str]]:
    fa, fb = figures(a), figures(b)
    rows = []
    for key in list(dict.fromkeys([*fa, *fb])):
        va, vb = fa.get(key, {}).get("value"), fb.get(key, {}).get("value")
        delta = "-" if va is None or vb is None else f"{vb - va:+.3f}"
        rows.append([key[0], key[1], fa.get(key, {}).get("shown", "-"), fb.get(key, {}).get("shown", "-"), delta,
                     fa.get(key, {}).get("window", "-"), fb.get(key, {}).get("window", "-"),
                     f"{fa.get(key, {}).get('verdict', '-')}/{fb.get(key, {}).get('verdict', '-')}"])
    return rows


def _window(m: dict[str, Any] | None) -> str:
    if not m or m.get("earliest_s") is None:
        return "-"
    return f"{m['earliest_s']:.2f}-" + ("end" if m["latest_s"] is None else f"{m['latest_s']:.2f}s")


def _value(v: float | int | None) -> str:
    return str(v) if isinstance(v, int) else seconds(v)


def main(argv: list[str] | None = None, prog: str = "python -m labs.compare") -> int:
    p = Parser(prog=prog, description=describe(__doc__))
    p.add_argument("run_a", type=Path, help="a run folder (results/...)")
    p.add_argument("run_b", type=Path, help="the run folder to compare it with")
    p.add_argument("--out", type=Path, metavar="DIR", help="folder for compare.png/.svg (default: RUN_B)")
    args = p.parse_args(argv)
    return entry(prog, lambda: compare(args.run_a, args.run_b, args.out))


def compare(run_a: Path, run_b: Path, out: Path | None) -> int:
    """Print what changed between two runs and draw their timelines aligned."""
    if out is not None:  # before the table: its charts are the command's last step
        results.check_output_folder(out, "--out")
    a, b = _summary(run_a), _summary(run_b)
    runs = [(f"{n} {f.resolve().name}", data.load(f)) for n, f in (("A", run_a), ("B", run_b))]
    header = ["phase", "figure", "A", "B", "B-A", "model A", "model B", "verdict A/B"]
    print(f"A: {a.get('scenario')}@{a.get('target')} ({run_a})")
    print(f"B: {b.get('scenario')}@{b.get('target')} ({run_b})")
    print(tables.render(header, changes(a, b)))
    out = out or run_b
    out.mkdir(parents=True, exist_ok=True)
    made = charts.save(charts.aligned(runs), out, "compare")
    print(f"timelines aligned at the fault: {made[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
