"""`python -m labs.sweep TOPOLOGY --scenario NAME --set SETTING=V1,V2,...`: one scenario run
for each value of a timer (each --repeat N times, side by side like labs.run), then the
failover against the model's window for every value in one chart.

The sweep folder, results/<time>-<topology>-sweep-<scenario>-<setting>/, holds sweep.json
(setting, values, every run's figures), sweep.png/.svg, report.html and, per value, the
results root of that value's `labs.run` (<setting>=<value>/, complete run folders).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from labs.report import charts

from labs.common import jsonfile

from labs.report import html

from labs.common import results

from labs.plan import scenario
from labs.analysis import summary, sweep
from labs.common.command import Parser, describe, listing, guarded
from labs.common.errors import LabError
from labs.plan.runplan import LabChoice, choose_lab

PROG = "python -m labs.sweep"


def parse(argv: list[str], prog: str = PROG) -> argparse.Namespace:
    p = Parser(prog=prog, description=describe(__doc__))
    p.add_argument("topology", help=f"a topology (see {listing(prog)})")
    p.add_argument("--scenario", required=True, help="the scenario every value runs")
    p.add_argument("--set", required=True, metavar="SETTING=V1,V2,...",
                   help="the timer to sweep and its values, e.g. advert_int=1,0.5,0.2,0.1 (names: labs/spec/__init__.py Timers)")
    p.add_argument("--target", help="host the scenario breaks (default: the scenario's own)")
    p.add_argument("--variant", default="default", help="configuration variant the sweep starts from")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="runs per value (default 1)")
    p.add_argument("--kernel", default="auto", choices=("auto", "native", "uml"))
    p.add_argument("--results", type=Path, default=results.DEFAULT_ROOT, metavar="DIR")
    args = p.parse_args(argv)
    args.results = args.results.absolute()
    return args


def values(args: argparse.Namespace) -> tuple[str, list[str], LabChoice]:
    """The setting and its values, each checked against the topology before anything runs,
    and the lab the sweep starts from."""
    setting, sep, listed = args.set.partition("=")
    found = [v.strip() for v in listed.split(",") if v.strip()]
    if not sep or not setting.strip() or not found:
        raise LabError(f"--set {args.set}: write it as SETTING=V1,V2,..., e.g. --set advert_int=1,0.5,0.2,0.1")
    if len(set(found)) != len(found):
        raise LabError(f"--set {args.set}: a value is listed twice")
    if args.repeat < 1:
        raise LabError(f"--repeat {args.repeat}: give a count of 1 or more")
    for value in found:  # each value's lab, built as its run will build it
        choose_lab(args.topology, args.variant, settings={setting.strip(): value})
    lab = choose_lab(args.topology, args.variant)
    choices = scenario.load(args.scenario).targets(lab.spec)
    if args.target and args.target not in choices:
        raise LabError(f"{args.scenario} cannot target {args.target!r}; it targets: {', '.join(choices)}")
    return setting.strip(), found, lab


def run(args: argparse.Namespace, argv: list[str]) -> int:
    setting, found, lab = values(args)
    results.check_writable(args.results)
    spec = lab.spec
    target = args.target or scenario.load(args.scenario).default_target(spec)
    folder = results.new_folder(args.results, spec.name, f"sweep-{Path(args.scenario).stem}-{setting}")
    doc = {"setting": setting, "scenario": args.scenario, "scenario_name": Path(args.scenario).stem, "target": target,
           "topology": args.topology, "variant": args.variant, "repeat": args.repeat,
           "command": ["python", "-m", "labs.sweep", *argv], "values": [{"value": v} for v in found]}
    jsonfile.write(folder / "sweep.json", doc)
    print(f"sweep of {setting} over {', '.join(found)}: {folder}", flush=True)
    started = time.monotonic()
    for n, value in enumerate(found, 1):
        print(f"=== [{n}/{len(found)}] {setting}={value} ({time.monotonic() - started:.0f} s so far)", flush=True)
        cmd = [sys.executable, "-m", "labs.run", args.topology, "--scenario", args.scenario, "--target", target,
               "--variant", args.variant, "--repeat", str(args.repeat), "--kernel", args.kernel,
               "--set", f"{setting}={value}", "--results", str(sweep.value_folder(folder, setting, value))]
        code = subprocess.run(cmd).returncode
        if code not in (0, 1, 3):  # 1 a verdict failed, 3 disturbed: results; anything else stops the sweep
            raise LabError(f"{setting}={value}: `labs.run` ended with exit {code}; its output is above, "
                           f"the sweep so far in {folder}")
    return report_sweep(folder)


def draw_sweep(folder: Path) -> list[Path]:
    """sweep.json completed from the run folders, the chart and report.html (files only;
    `python -m labs.plot SWEEP` draws them again)."""
    doc = sweep.collect(folder)
    jsonfile.write(folder / "sweep.json", doc)
    images = charts.save(charts.sweep(doc), folder, "sweep")
    (folder / "report.html").write_text(html.sweep_page(doc, [p for p in images if p.suffix == ".png"]))
    results.finish(folder, latest=False)
    return [*images, folder / "report.html"]


def report_sweep(folder: Path) -> int:
    """The sweep's files drawn, its table printed; exit 0 only if every run passed, else 1
    if any failed, else 3 (some disturbed)."""
    made = draw_sweep(folder)
    doc = json.loads((folder / "sweep.json").read_text())
    print(f"\n=== sweep of {doc['setting']}: {doc['scenario_name']} on {doc['target']}", flush=True)
    print(sweep.table(doc), flush=True)
    print(f"chart: {made[0]}\nreport: {made[-1]}", flush=True)
    verdicts = [r["verdict"] for e in doc["values"] for r in e["runs"]]
    return summary.exit_status(verdicts) if verdicts else 1


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv, prog)
    return guarded(prog, lambda: run(args, argv), args.results)


if __name__ == "__main__":
    sys.exit(main())
