"""`python -m labs.plot RESULTS_DIR`: draw a run's plots and report.html (or a suite's spread plot) from files alone."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from labs.report import charts

from labs.report import html
from labs.analysis import data
from labs.analyze import analyze
from labs.common.command import Parser, describe, entry
from labs.common.errors import LabError
from labs.sweep import draw_sweep


def draw(folder: Path, fresh: bool = False) -> list[Path]:
    """timeline.{png,svg}, distribution.{png,svg} and report.html in `folder` (re-analysed
    first when `fresh`, e.g. for a lab that is still running)."""
    run = data.load(folder)
    summary_file = folder / "summary.json"
    summary = analyze(folder) if fresh or not summary_file.exists() else json.loads(summary_file.read_text())
    made = charts.save(charts.timeline(run, summary), folder, "timeline")
    made += charts.save(charts.distribution(summary), folder, "distribution")
    if (folder / "connections.csv").exists():  # the connection probe's (director_failover)
        made += charts.save(charts.connections(folder, run, summary), folder, "connections")
    page = folder / "report.html"
    page.write_text(html.page(folder, summary, [p for p in made if p.suffix == ".png"]))
    return [*made, page]


def draw_suite(folder: Path) -> list[Path]:
    """spread.{png,svg} of a suite folder: each figure over its runs against the model."""
    suite = json.loads((folder / "suite.json").read_text())
    paths = [folder.parent / name / "summary.json" for name in suite["runs"]]
    missing = [str(p.parent) for p in paths if not p.exists()]
    if missing:  # a spread over fewer runs than the suite had would mislead
        raise LabError(f"{folder}/suite.json names runs without a summary.json: {', '.join(missing)}; "
                       "keep the suite folder beside its run folders (python -m labs.analyze SUITE writes their summaries)")
    return charts.save(charts.spread([json.loads(p.read_text()) for p in paths]), folder, "spread")


def main(argv: list[str] | None = None, prog: str = "python -m labs.plot") -> int:
    p = Parser(prog=prog, description=describe(__doc__))
    p.add_argument("folder", type=Path, help="a run folder under results/ (or results/latest), a suite or a sweep folder")
    args = p.parse_args(argv)
    t = time.monotonic()

    def go() -> int:
        if (args.folder / "sweep.json").exists():
            made = draw_sweep(args.folder)
        else:
            made = draw_suite(args.folder) if (args.folder / "suite.json").exists() else draw(args.folder)
        print(f"drew {len(made)} files in {time.monotonic() - t:.2f} s: {made[-1]}")
        return 0

    return entry(prog, go)


if __name__ == "__main__":
    sys.exit(main())
