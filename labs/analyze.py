"""`python -m labs.analyze RESULTS_DIR`: recompute summary.json from a run's files alone."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from labs.common import jsonfile
from labs.analysis import data, summary
from labs.common.command import entry

PROG = "python -m labs.analyze"


def analyze(folder: Path) -> dict:
    """Write and return the folder's summary.json."""
    result = summary.summarize(data.load(folder))
    jsonfile.write(folder / "summary.json", result)
    summary.write_csv(folder / "expectations.csv", summary.flat(result, folder.name))
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0].strip("`"))
    p.add_argument("folder", type=Path, help="a run folder under results/ (or results/latest)")
    args = p.parse_args(argv)

    def go() -> int:
        result = analyze(args.folder)
        print(summary.table(result))
        return summary.exit_status([result["verdict"]])  # 0 pass, 1 fail, 3 disturbed

    return entry(PROG, go)


if __name__ == "__main__":
    sys.exit(main())
