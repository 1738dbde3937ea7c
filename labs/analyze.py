"""`python -m labs.analyze RESULTS_DIR`: recompute summary.json from a run's files alone."""
from __future__ import annotations

import sys
from pathlib import Path

from labs.common import jsonfile
from labs.analysis import data, summary
from labs.common.command import Parser, describe, entry

PROG = "python -m labs.analyze"


def analyze(folder: Path) -> dict:
    """Write and return the folder's summary.json."""
    result = summary.summarize(data.load(folder))
    jsonfile.write(folder / "summary.json", result)
    summary.write_csv(folder / "expectations.csv", summary.flat(result, folder.name))
    return result


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    p = Parser(prog=prog, description=describe(__doc__))
    p.add_argument("folder", type=Path, help="a run folder under results/ (or results/latest)")
    args = p.parse_args(argv)

    def go() -> int:
        result = analyze(args.folder)
        print(summary.table(result))
        return 0 if result["verdict"] == "pass" else 1

    return entry(prog, go)


if __name__ == "__main__":
    sys.exit(main())
