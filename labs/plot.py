"""`python -m labs.plot RESULTS_DIR`: draw a run's plots and report.html from its files alone."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from labs import plots, report
from labs.analysis import data
from labs.analyze import analyze
from labs.errors import LabError


def draw(folder: Path) -> list[Path]:
    """timeline.{png,svg}, distribution.{png,svg} and report.html in `folder`."""
    run = data.load(folder)
    summary_file = folder / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else analyze(folder)
    made = plots.save(plots.timeline(run, summary), folder, "timeline")
    made += plots.save(plots.distribution(summary), folder, "distribution")
    page = folder / "report.html"
    page.write_text(report.render(folder, summary, [p for p in made if p.suffix == ".png"]))
    return [*made, page]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m labs.plot", description=__doc__.split("\n")[0].strip("`"))
    p.add_argument("folder", type=Path, help="a run folder under results/ (or results/latest)")
    args = p.parse_args(argv)
    t = time.monotonic()
    try:
        made = draw(args.folder)
    except LabError as e:
        print(f"python -m labs.plot: error: {e}", file=sys.stderr)
        return 2
    print(f"drew {len(made)} files in {time.monotonic() - t:.2f} s: {args.folder / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
