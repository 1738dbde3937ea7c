"""`python -m labs.analyze FOLDER`: recompute summary.json from a run's files alone (or every
run of a suite folder, and the suite's verdicts, spread and expectations.csv)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from labs.common import jsonfile
from labs.analysis import data, summary
from labs.analysis import suite as suite_tables
from labs.common.command import Parser, describe, entry_json
from labs.common.errors import LabError

PROG = "python -m labs.analyze"


def run_id(folder: Path, info: dict[str, Any]) -> str:
    """The run's id: run.json's `run_id` (kept when the folder is renamed or copied), the
    folder's name in folders from before schema_version 3."""
    return str(info.get("run_id") or folder.resolve().name)


def analyze(folder: Path) -> dict:
    """Write and return the folder's summary.json."""
    run = data.load(folder)
    result = summary.summarize(run)
    jsonfile.write(folder / "summary.json", result)
    summary.write_csv(folder / "expectations.csv", summary.flat(result, run_id(folder, run.info)))
    return result


def suite_runs(folder: Path) -> tuple[dict[str, Any], list[Path]]:
    """A suite folder's suite.json and its run folders (beside it, as the suite wrote them)."""
    try:
        doc = json.loads((folder / "suite.json").read_text())
    except ValueError as e:
        raise LabError(f"{folder}/suite.json: cannot parse it ({e})") from None
    runs = [folder.parent / name for name in doc.get("runs", [])]
    missing = [str(r) for r in runs if not (r / "run.json").is_file()]
    if missing:  # a suite re-analysed over fewer runs than it had would mislead
        raise LabError(f"{folder}/suite.json names runs that are not beside it: {', '.join(missing)}; "
                       "keep the suite folder beside its run folders")
    return doc, runs


def analyze_suite(folder: Path) -> list[dict[str, Any]]:
    """Re-analyse every run a suite folder names, then rewrite the suite's verdicts, its
    spread over repeats and its expectations.csv from those summaries."""
    doc, runs = suite_runs(folder)
    summaries = [analyze(r) for r in runs]
    doc = {k: v for k, v in doc.items() if k != "schema_version"}
    doc["verdicts"] = [s["verdict"] for s in summaries]
    if doc.get("repeat", 1) > 1:
        doc["spread"] = suite_tables.repeat_stats(summaries)
    jsonfile.write(folder / "suite.json", doc)
    rows = [row for r, s in zip(runs, summaries) for row in summary.flat(s, run_id(r, json.loads((r / "run.json").read_text())))]
    summary.write_csv(folder / "expectations.csv", rows)
    return summaries


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    p = Parser(prog=prog, description=describe(__doc__))
    p.add_argument("folder", type=Path, help="a run folder under results/ (or results/latest), or a suite folder")
    p.add_argument("--json", action="store_true",
                   help="print one JSON document on stdout (`summary`, or a suite's `summaries`) instead of the table")
    args = p.parse_args(argv)

    def go(doc: dict[str, Any]) -> int:
        doc["folder"] = str(args.folder)
        if (args.folder / "suite.json").exists():
            summaries = doc["summaries"] = analyze_suite(args.folder)
            text = suite_tables.table(summaries)
        else:
            doc["summary"] = analyze(args.folder)
            summaries, text = [doc["summary"]], summary.table(doc["summary"])
        if not args.json:
            print(text)
        return summary.exit_status([s["verdict"] for s in summaries])  # 0 pass, 1 fail, 3 disturbed

    return entry_json(prog, go, args.json)


if __name__ == "__main__":
    sys.exit(main())
