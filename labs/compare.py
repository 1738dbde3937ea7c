"""`python -m labs.compare RUN_A RUN_B`: what changed between two runs (e.g. two config
versions), figure by figure, and both timelines aligned at the fault. Files only."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labs.report import charts

from labs.common import tables
from labs.analysis import data
from labs.analysis.expectations import described, seconds
from labs.analyze import analyze
from labs.common import results
from labs.common.command import Parser, describe, entry_json

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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
    return {**out, **_timing(summary)}


def _timing(summary: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The run's own measurement (summary.json `measurement`): the probe's p99 lateness and
    sent/asked against their bounds, `disturbed` when either is out (a folder analysed
    before it was judged has none)."""
    m = summary.get("measurement")
    if not m:
        return {}
    verdict = "disturbed" if m["disturbed"] else "ok"
    late, share = m.get("late_p99_s"), m.get("sent_share")
    return {("run", "probe p99 lateness"): {"value": late, "shown": _value(late), "window": f"<={m['late_bound_s']:.3f}s",
                                            "verdict": verdict},
            ("run", "probe sent/asked"): {"value": share, "shown": f"{m['sent']}/{m['asked']}" if m.get("asked") else "-",
                                          "window": f">={m['sent_bound']:.0%}", "verdict": verdict}}


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


def change_list(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """`changes` as data for --json: the figures as numbers (null where a run has none)."""
    fa, fb = figures(a), figures(b)
    out = []
    for key in list(dict.fromkeys([*fa, *fb])):
        va, vb = fa.get(key, {}).get("value"), fb.get(key, {}).get("value")
        out.append({"phase": key[0], "figure": key[1], "a": va, "b": vb,
                    "delta": None if va is None or vb is None else round(vb - va, 6),
                    "model_a": fa.get(key, {}).get("window"), "model_b": fb.get(key, {}).get("window"),
                    "verdict_a": fa.get(key, {}).get("verdict"), "verdict_b": fb.get(key, {}).get("verdict")})
    return out


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
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout instead of the table")
    args = p.parse_args(argv)
    return entry_json(prog, lambda doc: compare(args.run_a, args.run_b, args.out, doc, args.json), args.json)


def figure(run_a: Path, run_b: Path, a: dict[str, Any] | None = None, b: dict[str, Any] | None = None) -> Figure:
    """Both timelines aligned at the fault, A above B in each VIP's panel, titled with what
    each run was and its folder."""
    a, b = a or _summary(run_a), b or _summary(run_b)
    heading = "\n".join(f"{n}: {charts.title(s)} ({f.resolve().name})" for n, s, f in (("A", a, run_a), ("B", b, run_b)))
    return charts.aligned([("A", data.load(run_a)), ("B", data.load(run_b))], heading)


def compare(run_a: Path, run_b: Path, out: Path | None, doc: dict[str, Any] | None = None, quiet: bool = False) -> int:
    """Print (unless `quiet`) what changed between two runs and draw their timelines
    aligned; `doc` gets the same as data (the --json document)."""
    if out is not None:  # before the table: its charts are the command's last step
        results.check_output_folder(out, "--out")
    a, b = _summary(run_a), _summary(run_b)
    out = out or run_b
    out.mkdir(parents=True, exist_ok=True)
    made = charts.save(figure(run_a, run_b, a, b), out, "compare")
    if doc is not None:
        doc.update({name: {"folder": str(f), "run_id": s.get("run_id"), "scenario": s.get("scenario"),
                           "target": s.get("target"), "verdict": s.get("verdict")}
                    for name, f, s in (("a", run_a, a), ("b", run_b, b))})
        doc.update(changes=change_list(a, b), chart=str(made[0]))
    if not quiet:
        header = ["phase", "figure", "A", "B", "B-A", "model A", "model B", "verdict A/B"]
        for name, s, folder in (("A", a, run_a), ("B", b, run_b)):
            print(f"{name}: {s.get('scenario')}@{s.get('target')} ({folder}): {str(s.get('verdict')).upper()}")
            if (s.get("measurement") or {}).get("disturbed"):
                print(f"   timing disturbed: {s['measurement']['why']}: {name}'s figures cannot be trusted")
        print(tables.render(header, changes(a, b)))
        print(f"timelines aligned at the fault: {made[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
