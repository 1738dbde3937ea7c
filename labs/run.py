"""`python -m labs.run`: bring a lab up (natively or inside User-mode Linux), check it, tear it down."""
from __future__ import annotations

import argparse
import functools
import os
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import topologies
from labs import kernel
from labs.lab import jobs
from labs.common import jsonfile
from labs.common import requirements
from labs.common import results
from labs.plan import scenario
from labs.lab import suite
from labs.common.command import Parser, emit_json, entry, guarded, lab_arguments, lab_of
from labs.common.errors import LabError
from labs.plan.runplan import ProbeSettings, RunPlan
from labs.lab.session import Progress, with_lab
from labs.lab.suite import DEFAULT_SCENARIOS

if TYPE_CHECKING:
    from labs.lab.lab import Lab
    from labs.spec import LabSpec

PROG = "python -m labs.run"


# what each of halab's subcommands on this module does: its --help description
MODES = {
    "run": "Build a keepalived + LVS (IPVS DR) + nginx lab in network namespaces with real daemons, break it with "
           "fault scenarios and measure how it heals.",
    "check": "Bring a lab up, print its status table, tear it down; exit 0 only if it converged.",
    "cli": "Bring a lab up and open Mininet's CLI with the lab's commands (status, fail, heal, probe, plot); "
           "`exit` tears it down.",
    "list": "List the topologies with their variants, and the scenarios with the hosts each can target on a lab "
            "(dual_master unless TOPOLOGY is given).",
}


def parser(prog: str = PROG, mode: str = "run") -> Parser:
    """The options of `mode`: all of them for labs.run (`--check`, `--cli` and `--list` among
    them), only their own for `halab check`, `halab cli` and `halab list`."""
    def want(*modes: str) -> bool:
        return mode == "run" or mode in modes

    p = Parser(prog=prog, description=MODES[mode])
    what = "the lab whose hosts the scenarios can target" if mode == "list" else "topology to build"
    p.add_argument("topology", nargs="?" if mode in ("run", "list") else None,
                   help=f"{what} (a topology: {'see --list' if mode == 'run' else 'halab list names them'}), "
                   "or your own lab file (a path ending in .toml; see examples/)")
    if want():
        p.add_argument("--dump", type=Path, metavar="DIR",
                       help="write the topology (with --variant and --set) as a lab file and its configs into DIR "
                       "(new, or empty), then exit")
        p.add_argument("--list", action="store_true", help="list topologies and scenarios, then exit")
        p.add_argument("--check", action="store_true",
                       help="bring the lab up, print its status table, tear it down; exit 0 only if it converged")
        p.add_argument("--cli", action="store_true",
                       help="bring the lab up and open Mininet's CLI with lab commands (status, fail, heal, probe, plot)")
    if want("cli"):
        p.add_argument("--no-probe", action="store_true",
                       help="do not start the client probe (`probe start` does)" if mode == "cli" else
                       "with --cli: do not start the client probe (`probe start` does)")
    if want("check", "cli"):
        p.add_argument("--kernel", choices=kernel.CHOICES, default="auto",
                       help="native: the host kernel (root and IPVS needed); uml: User-mode Linux "
                       "(no root needed); auto (default): native when possible, else uml")
    if want():
        p.add_argument("--scenario", metavar="NAME[,NAME]",
                       help=f"scenario(s) to run (default: {','.join(DEFAULT_SCENARIOS)}); see --list. "
                       "A path ending in .py runs your own scenario file (same shape as scenarios/*.py)")
    lab_arguments(p)
    if want():
        p.add_argument("--target", metavar="HOST", help="host the scenario breaks (default: the scenario's own)")
        p.add_argument("--fresh", action="store_true",
                       help="a freshly built lab for every scenario run (default: one lab for all of them, rebuilt "
                       "only when a run leaves it unhealthy)")
        p.add_argument("--jobs", type=int, metavar="N",
                       help="run the scenarios on N labs side by side, each in its own User-mode Linux kernel "
                       "(default: two per CPU, at most 4, each kernel on one CPU, under User-mode Linux; 1 natively; "
                       "each job shares one lab among its runs unless --fresh)")
        p.add_argument("--part", type=Path, help=argparse.SUPPRESS)  # set by --jobs for each job it starts
        p.add_argument("--cpu", type=int, help=argparse.SUPPRESS)  # set by --jobs: the host CPU of the job's kernel
        p.add_argument("--repeat", type=int, default=1, metavar="N",
                       help="run each scenario N times and report min/median/p95/max of each figure")
    if want("cli"):
        p.add_argument("--rate", type=float, default=ProbeSettings.rate,
                       help="probe requests per second per VIP (default %(default)g)")
        p.add_argument("--timeout", type=float, default=ProbeSettings.timeout,
                       help="probe timeout per request in seconds (default %(default)g)")
    if want("check", "list"):
        p.add_argument("--json", action="store_true",
                       help={"run": "print a JSON document on stdout (with --list: the catalogue; with --check: the "
                             "status; else every run's summary), progress on stderr",
                             "check": "print the status as a JSON document on stdout, progress on stderr",
                             "list": "print the catalogue as a JSON document"}[mode])
    if want():
        p.add_argument("--junit-xml", type=Path, metavar="PATH",
                       help="also write JUnit XML: one test case per scenario run, each failed expectation in its "
                       "message")
    if want("check", "cli"):
        p.add_argument("--results", type=Path, default=results.DEFAULT_ROOT, metavar="DIR",
                       help=f"where run folders are written (default: {results.DEFAULT_ROOT})")
    return p


def parse(argv: list[str], prog: str = PROG) -> argparse.Namespace:
    p = parser(prog)
    args = p.parse_args(argv)
    args.results = args.results.absolute()  # daemons get config paths from it, from other folders
    if not args.list and not args.topology:
        p.error("name a topology (e.g. dual_master) or a lab file (e.g. examples/article/article.toml), or use --list")
    if args.topology and args.topology.endswith(".toml"):
        args.topology = str(Path(args.topology).absolute())  # the UML kernel and --jobs start from other processes
    return args


def listed_lab(args: argparse.Namespace) -> "LabSpec":
    """The lab whose hosts --list names as targets: the topology given, else dual_master."""
    return lab_of(args).spec if args.topology else topologies.load("dual_master").spec()


def catalogue(spec: "LabSpec") -> dict[str, object]:
    """--list --json: topologies with their variants, scenarios with their targets on `spec`."""
    tops = {}
    for name in topologies.names():
        module = topologies.load(name)
        tops[name] = {"description": module.spec().description,
                      "variants": {v: what for v, (what, _) in getattr(module, "VARIANTS", {}).items()}}
    scens = {e.name: {"summary": e.summary, "targets": list(e.targets), "default_target": e.default}
             for e in scenario.catalogue(spec)}
    return {"topologies": tops, "targets_on": spec.name, "scenarios": scens}


def list_all(spec: "LabSpec") -> str:
    """The catalogue as text, each column as wide as its longest name."""
    modules = {name: topologies.load(name) for name in topologies.names()}
    entries = scenario.catalogue(spec)
    width = max(map(len, [*modules, *(e.name for e in entries)]))
    variants = max((len(v) for m in modules.values() for v in getattr(m, "VARIANTS", {})), default=0)
    lines = ["topologies:"]
    for name, module in modules.items():
        lines.append(f"  {name:{width}}  {module.spec().description}")
        for variant, (what, _) in getattr(module, "VARIANTS", {}).items():
            lines.append(f"    --variant {variant:{variants}}  {what}")
    lines.append(f"scenarios: (targets on {spec.name}'s hosts; --list TOPOLOGY for another's)")
    for e in entries:
        on = ", ".join(e.targets) or f"none on {spec.name}"
        lines.append(f"  {e.name:{width}}  {e.summary.rstrip('.')} (targets: {on})")
    return "\n".join(lines)


def plan_of(args: argparse.Namespace, argv: list[str]) -> RunPlan:
    """The command's plan, checked before anything is built: its lab and (unless --check
    or --cli) its scenario runs."""
    for mode, flag in (("check", "--check"), ("cli", "--cli")):
        clash = [o for o, given in (("--scenario", args.scenario), ("--target", args.target), ("--repeat", args.repeat > 1),
                                    ("--fresh", args.fresh), ("--check", mode == "cli" and args.check)) if given]
        if getattr(args, mode) and clash:
            what = "brings the lab up, prints its status and tears it down" if mode == "check" else "opens the interactive lab"
            raise LabError(f"{flag} {what}: it runs no scenario, drop {', '.join(clash)} (or drop {flag} to run scenarios)")
    probe = ProbeSettings(args.rate, args.timeout)
    lab = lab_of(args)
    runs = () if args.check or args.cli else suite.choose_runs(
        lab.spec, args.scenario.split(",") if args.scenario else None, args.target)
    return RunPlan(lab, args.results, runs, repeat=args.repeat, probe=probe, kernel=args.kernel, jobs=args.jobs,
                   fresh=args.fresh, target=args.target, argv=tuple(argv), part=args.part, cpu=args.cpu,
                   junit_xml=args.junit_xml)


def check_body(lab: "Lab", folder: Path, say: Progress) -> bool:
    from labs.lab import converge, status  # pyroute2: only on a running lab

    snap = converge.take(lab)
    found = converge.problems(lab, snap)
    print(status.text(lab.spec, snap), flush=True)
    if found:  # the exit status says it; this line says why
        print(f"not as configured: {'; '.join(found)}", flush=True)
    else:
        print("as configured: every VIP on its master, every IPVS table complete, HTTP answered as expected", flush=True)
    ok = not found
    jsonfile.write(folder / "status.json", {"converged": ok, "converged_after_s": lab.converged_after, **snap.to_json()})
    return ok


def cli_body(settings: ProbeSettings, probe: bool, lab: "Lab", folder: Path, say: Progress) -> bool:
    from labs.lab.cli import LabCLI  # Mininet's CLI: only for --cli

    say("lab up; type `help` for Mininet's and the lab's commands, `exit` to tear down")
    LabCLI(lab, settings, probe=probe)  # returns when the user leaves
    return True


def run_native(args: argparse.Namespace, plan: RunPlan, backend: str, reason: str) -> int:
    """Bring the lab up on this kernel: an interactive session, a status check, or the plan's runs."""
    if args.cli:
        body = functools.partial(cli_body, plan.probe, not args.no_probe)
        ok, _ = with_lab(plan, backend, reason, "cli", body, probe={"rate": plan.probe.rate, "timeout": plan.probe.timeout})
        return 0 if ok else 1
    if not plan.runs:
        ok, _ = with_lab(plan, backend, reason, "check", check_body)
        return 0 if ok else 1
    return suite.run_here(plan, backend, reason)


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv, prog)
    if args.list:
        def listing() -> int:
            spec = listed_lab(args)
            if args.json:
                emit_json(catalogue(spec), sys.stdout)
            else:
                print(list_all(spec))
            return 0

        return entry(prog, listing)
    if args.dump:
        return entry(prog, lambda: dump(args, prog))
    if args.json and not os.environ.get("HALAB_IN_UML"):  # inside UML the outer command reports
        return main_json(args, argv, prog)

    def go() -> int:
        plan = plan_of(args, argv)  # the user's input first, then this machine's programs
        results.check_writable(plan.results)
        if plan.junit_xml:
            results.check_output_file(plan.junit_xml, "--junit-xml")
        requirements.check()
        ipvs = plan.spec.needs_ipvs
        # Runs under User-mode Linux go as jobs (one or more kernels) even one at a time:
        # each run's plots are then drawn on the host while the next run goes on.
        if not os.environ.get("HALAB_IN_UML") and not plan.part and plan.runs and (
                jobs.count(plan) > 1 or kernel.choose(plan.kernel, ipvs).backend == "uml"):
            return jobs.run(plan)
        where = kernel.dispatch("labs.run", argv, plan.kernel, plan.results, interactive=args.cli, ipvs=ipvs, cpu=plan.cpu)
        if isinstance(where, int):
            return where
        return run_native(args, plan, *where)

    return guarded(prog, go, args.results)


def mode_main(mode: str, argv: list[str] | None, prog: str) -> int:
    """`halab check|cli|list`: their own options and help, then labs.run with `--MODE`."""
    argv = sys.argv[1:] if argv is None else argv
    parser(prog, mode).parse_args(argv)
    return main([f"--{mode}", *argv], prog)


def check_main(argv: list[str] | None = None, prog: str = "halab check") -> int:
    return mode_main("check", argv, prog)


def cli_main(argv: list[str] | None = None, prog: str = "halab cli") -> int:
    return mode_main("cli", argv, prog)


def list_main(argv: list[str] | None = None, prog: str = "halab list") -> int:
    return mode_main("list", argv, prog)


def dump(args: argparse.Namespace, prog: str) -> int:
    """--dump DIR: the topology as a lab file (labs.spec.labfile.dump)."""
    from labs.spec import labfile  # jinja2 (the daemon classes): --help and --list work without it

    if labfile.is_lab_file(args.topology):
        raise LabError(f"--dump writes a Python topology as a lab file; {args.topology} already is one")
    spec = lab_of(args).spec
    results.check_output_folder(args.dump, "--dump", {f"{spec.name}.toml", *(h.name for h in spec.hosts)})
    written = labfile.dump(spec, args.dump)
    print(f"lab file: {written} (run it: {prog} {written})")
    return 0


def main_json(args: argparse.Namespace, argv: list[str], prog: str) -> int:
    """--json: the command as usual with its progress on stderr, then one document on stdout
    made from the folders it wrote: each run's summary.json and the suite's, or the status."""
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        before = results.entries(args.results) if args.results.exists() else set()
        code = main([a for a in argv if a != "--json"], prog)
    finally:
        sys.stdout = real_stdout
    made = sorted(p for p in results.entries(args.results) - before if p.is_dir()) if args.results.exists() else []

    def read(folder: Path, name: str) -> dict[str, object]:
        return {"folder": str(folder), **json.loads((folder / name).read_text())}

    doc: dict[str, object] = {
        "exit": code,
        "runs": [read(f, "summary.json") for f in made if (f / "summary.json").exists()],
        "suite": next((read(f, "suite.json") for f in made if (f / "suite.json").exists()), None),
        "status": next((read(f, "status.json") for f in made if f.name.endswith("-check")), None),
    }
    emit_json(doc, sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
