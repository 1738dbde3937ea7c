"""`halab`: one command for every lab tool, each subcommand the same code as its
`python -m labs.X` form (`halab run dual_master` = `python -m labs.run dual_master`)."""
from __future__ import annotations

import importlib
import json
import os
import sys

from labs import version
from labs.common import results
from labs.common.command import entry

# subcommand -> (module, its function that runs it as main(argv, prog), one line of help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("labs.run", "main", "build a lab, run fault scenarios, judge them (python -m labs.run)"),
    "check": ("labs.run", "check_main", "bring a lab up, print its status, tear it down (run TOPOLOGY --check)"),
    "cli": ("labs.run", "cli_main", "the interactive lab: status, fail, heal, probe, plot (run TOPOLOGY --cli)"),
    "list": ("labs.run", "list_main", "topologies, variants and scenarios, with the targets on a lab (run [LAB] --list)"),
    "sweep": ("labs.sweep", "main", "one scenario for each value of a timer: failover against the model, one chart"),
    "analyze": ("labs.analyze", "main", "recompute a run folder's summary.json from its files"),
    "plot": ("labs.plot", "main", "draw a run folder's charts and report.html (or a suite's spread)"),
    "compare": ("labs.compare", "main", "two runs side by side, timelines aligned"),
    "lint": ("labs.lint", "main", "explain what is wrong with keepalived configs (a topology's, or a lab file's)"),
    "render": ("labs.render", "main", "a topology's configs for real machines (--apply configures one)"),
    "bench": ("labs.bench", "main", "benchmarks: bring-up, precision, RPS, scale, the default set"),
    "status": ("labs.housekeeping", "status_main", "is a lab running here: whose, since when, which namespaces and results"),
    "clean": ("labs.housekeeping", "clean_main", "remove what a killed lab left (only what it recorded as its own)"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: halab COMMAND [ARGS...]   (halab COMMAND --help, or halab help COMMAND, for its arguments)", "",
             "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, _, text) in COMMANDS.items()]
    return "\n".join([*lines, "", "options: --help, --version"])


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # run from the shell: run.json records `halab ...`, not the words rearranged below
        argv = sys.argv[1:]
        os.environ.setdefault(results.COMMAND_ENV, json.dumps(["halab", *argv]))
    if argv[:1] == ["help"] and argv[1:]:  # `halab help run` = `halab run --help`
        argv = [argv[1], "--help"]
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    if argv[0] == "--version":
        print(f"halab {version()}")
        return 0
    if argv[0] not in COMMANDS:
        print(f"halab: error: unknown command {argv[0]!r}; choose one of {', '.join(COMMANDS)} (halab --help)",
              file=sys.stderr)
        return 2
    module, function, _ = COMMANDS[argv[0]]
    prog, rest = f"halab {argv[0]}", argv[1:]
    sys.argv = [prog, *rest]
    # importing the subcommand's module imports its libraries: one line if this interpreter lacks one
    return entry(prog, lambda: getattr(importlib.import_module(module), function)(rest, prog))


if __name__ == "__main__":
    sys.exit(main())
