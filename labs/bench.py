"""`python -m labs.bench`: measure the lab and print a table (results/bench/<time>.json).

Benchmarks, not tests: they print numbers for the README's maintainers.
- bring-up: `--check` N times; converged-after against the VRRP start-up floor (the
  servers' tier, then the directors', each waiting its master's master-down interval);
- precision: `stop_keepalived --repeat N`; the measured failover against the model's
  skew time;
- full (with --full): the wall time of the default scenario set.
Every run goes through `python -m labs.run`, on whichever kernel backend it picks.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from labs import results, timing
from labs.analysis.suite import spread
from topologies import dual_master

REPO = Path(__file__).resolve().parent.parent


def _run(args: list[str], folder: Path) -> tuple[float, Path]:
    t = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "labs.run", "dual_master", *args, "--results", str(folder)],
                       cwd=REPO, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"python -m labs.bench: `labs.run {' '.join(args)}` failed (exit {p.returncode}):\n{p.stdout[-2000:]}")
    return time.monotonic() - t, folder


def bring_up(n: int, scratch: Path) -> dict[str, Any]:
    spec = dual_master.spec()
    floor = 2 * timing.startup_floor(spec)
    converged, walls, backend = [], [], ""
    for i in range(n):
        wall, folder = _run(["--check"], scratch / f"check{i}")
        latest = (folder / "latest").resolve()
        converged.append(json.loads((latest / "status.json").read_text())["converged_after"])
        backend = json.loads((latest / "run.json").read_text())["kernel_backend"]
        walls.append(wall)
    return {"backend": backend, "runs": n, "vrrp_floor_s": round(floor, 3),
            "converged_after_s": spread(converged), "ratio_median": round(statistics.median(converged) / floor, 2),
            "check_wall_s": spread(walls)}


def precision(n: int, scratch: Path) -> dict[str, Any]:
    _, folder = _run(["--scenario", "stop_keepalived", "--repeat", str(n)], scratch / "precision")
    measured = []
    for summary in folder.glob("*-stop_keepalived/summary.json"):
        inject = json.loads(summary.read_text())["phases"][0]["expectations"][0]
        measured.append(inject["measured_s"])
    model = (256 - 80) / 256
    return {"runs": len(measured), "model_s": round(model, 4), "measured_s": spread(measured),
            "error_median_ms": round((statistics.median(measured) - model) * 1000, 1)}


def full(scratch: Path) -> dict[str, Any]:
    wall, _ = _run([], scratch / "full")
    return {"default_set_wall_s": round(wall, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m labs.bench", description=__doc__.split("\n")[0].strip("`"))
    p.add_argument("--runs", type=int, default=3, help="repeats per measurement (default 3)")
    p.add_argument("--full", action="store_true", help="also time the whole default scenario set (~10 min under UML)")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be 1 or more")
    with tempfile.TemporaryDirectory(dir=REPO / "results") as tmp:
        scratch = Path(tmp)
        report: dict[str, Any] = {"bring_up": bring_up(args.runs, scratch), "precision": precision(args.runs, scratch)}
        if args.full:
            report["full"] = full(scratch)
    b, pr = report["bring_up"], report["precision"]
    rows = [
        ("kernel backend", b["backend"]),
        ("bring-up to converged, median (s)", round(b["converged_after_s"]["median"], 2)),
        ("VRRP start-up floor, both tiers (s)", b["vrrp_floor_s"]),
        ("ratio to the floor", b["ratio_median"]),
        ("--check wall time, median (s)", round(b["check_wall_s"]["median"], 1)),
        ("stop_keepalived failover, median (s)", pr["measured_s"]["median"]),
        ("model (skew time) (s)", pr["model_s"]),
        ("probe error, median (ms)", pr["error_median_ms"]),
    ]
    if "full" in report:
        rows.append(("default scenario set wall time (s)", report["full"]["default_set_wall_s"]))
    width = max(len(r[0]) for r in rows)
    print("\n".join(f"{name:<{width}}  {value}" for name, value in rows))
    out = REPO / "results" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(report, indent=1))
    results.finish(path.parent, latest=False)
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
