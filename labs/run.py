"""`python -m labs.run`: bring a lab up (natively or inside User-mode Linux), check it, tear it down."""
from __future__ import annotations

import argparse
import functools
import os
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import scenarios
import topologies
from labs import jobs, jsonfile, junit, kernel, requirements, results, targets
from labs.command import emit_json, entry, guarded
from labs.session import Progress, SharedLab, lab_spec, with_lab
from labs.lab import resources
from labs.probes.http import RATE, TIMEOUT
from labs.errors import LabError

if TYPE_CHECKING:
    from labs.lab.lab import Lab
    from labs.spec import LabSpec

PROG = "python -m labs.run"


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Build a keepalived + LVS (IPVS DR) + nginx lab in network namespaces with "
        "real daemons, break it with fault scenarios and measure how it heals.",
    )
    p.add_argument("topology", nargs="?",
                   help="topology to build (see --list), or your own lab file (a path ending in .toml; see examples/)")
    p.add_argument("--dump", type=Path, metavar="DIR",
                   help="write the topology (with --variant and --set) as a lab file and its configs into DIR, then exit")
    p.add_argument("--list", action="store_true", help="list topologies and scenarios, then exit")
    p.add_argument("--check", action="store_true",
                   help="bring the lab up, print its status table, tear it down; exit 0 only if it converged")
    p.add_argument("--cli", action="store_true",
                   help="bring the lab up and open Mininet's CLI with lab commands (status, fail, heal, probe, plot)")
    p.add_argument("--no-probe", action="store_true", help="with --cli: do not start the client probe (`probe start` does)")
    p.add_argument("--kernel", choices=kernel.CHOICES, default="auto",
                   help="native: the host kernel (root and IPVS needed); uml: User-mode Linux "
                   "(no root needed); auto (default): native when possible, else uml")
    p.add_argument("--scenario", metavar="NAME[,NAME]",
                   help=f"scenario(s) to run (default: {','.join(DEFAULT_SCENARIOS)}); see --list. "
                   "A path ending in .py runs your own scenario file (same shape as scenarios/*.py)")
    p.add_argument("--variant", default="default", metavar="NAME",
                   help="configuration variant: the seed's mistakes, 'fast', ... (see --list)")
    p.add_argument("--target", metavar="HOST", help="host the scenario breaks (default: the scenario's own)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="change one of the topology's timers for this run, e.g. --set advert_int=0.5 (repeatable; "
                   "the names: labs/spec.py Timers; every expectation follows from the rendered configs)")
    p.add_argument("--servers", type=int, metavar="N",
                   help="number of real servers, for topologies that take it (scale: even, 2-64)")
    p.add_argument("--fresh", action="store_true",
                   help="a freshly built lab for every scenario run (default: one lab for all of them, rebuilt "
                   "only when a run leaves it unhealthy)")
    p.add_argument("--jobs", type=int, metavar="N",
                   help="run the scenarios on N labs side by side, each in its own User-mode Linux kernel "
                   "(default: two per CPU, at most 4, each kernel on one CPU, under User-mode Linux; 1 natively; "
                   "each job shares one lab "
                   "among its runs unless --fresh)")
    p.add_argument("--part", type=Path, help=argparse.SUPPRESS)  # set by --jobs for each job it starts
    p.add_argument("--cpu", type=int, help=argparse.SUPPRESS)  # set by --jobs: the host CPU of the job's kernel
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run each scenario N times and report min/median/p95/max of each figure")
    p.add_argument("--rate", type=float, default=RATE, help="probe requests per second per VIP (default %(default)g)")
    p.add_argument("--timeout", type=float, default=TIMEOUT, help="probe timeout per request in seconds (default %(default)g)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON document on stdout (with --list: the catalogue; with --check: the status; "
                   "else every run's summary), progress on stderr")
    p.add_argument("--junit-xml", type=Path, metavar="PATH",
                   help="also write JUnit XML: one test case per scenario run, each failed expectation in its message")
    p.add_argument("--results", type=Path, default=results.DEFAULT_ROOT, metavar="DIR",
                   help=f"where run folders are written (default: {results.DEFAULT_ROOT})")
    args = p.parse_args(argv)
    args.results = args.results.absolute()  # daemons get config paths from it, from other folders
    if not args.list and not args.topology:
        p.error("name a topology (e.g. dual_master) or a lab file (e.g. examples/article/article.toml), or use --list")
    if args.topology and args.topology.endswith(".toml"):
        args.topology = str(Path(args.topology).absolute())  # the UML kernel and --jobs start from other processes
    return args


def listed_lab(args: argparse.Namespace) -> "LabSpec":
    """The lab whose hosts --list names as targets: the topology given, else dual_master."""
    return lab_spec(args)[1] if args.topology else topologies.load("dual_master").spec()


def catalogue(spec: "LabSpec") -> dict[str, object]:
    """--list --json: topologies with their variants, scenarios with their targets on `spec`."""
    tops = {}
    for name in topologies.names():
        module = topologies.load(name)
        tops[name] = {"description": module.spec().description,
                      "variants": {v: what for v, (what, _) in getattr(module, "VARIANTS", {}).items()}}
    scens = {}
    for name in scenarios.names():
        module = scenarios.load(name)
        scens[name] = {"summary": (module.__doc__ or "").split("\n")[0].split(": ", 1)[-1],
                       "targets": list(targets.of(module, spec)), "default_target": targets.default(module, spec)}
    return {"topologies": tops, "targets_on": spec.name, "scenarios": scens}


def list_all(spec: "LabSpec") -> str:
    lines = ["topologies:"]
    for name in topologies.names():
        module = topologies.load(name)
        lines.append(f"  {name:16} {module.spec().description}")
        for variant, (what, _) in getattr(module, "VARIANTS", {}).items():
            lines.append(f"    --variant {variant:16} {what}")
    lines.append(f"scenarios: (targets on {spec.name}'s hosts; --list TOPOLOGY for another's)")
    for name in scenarios.names():
        module = scenarios.load(name)
        summary = (module.__doc__ or "").split("\n")[0].split(": ", 1)[-1]
        on = ", ".join(targets.of(module, spec)) or f"none on {spec.name}"
        lines.append(f"  {name:16} {summary} (targets: {on})")
    return "\n".join(lines)


DEFAULT_SCENARIOS = ("kill_nginx", "nginx_down", "stop_keepalived", "crash_keepalived", "link_down", "blackhole",
                     "link_flap", "split_brain", "real_server_down", "persistence")
# Beyond the article's design: run by name (`--scenario multicast_blocked --variant unicast`).
EXTRA_SCENARIOS = ("multicast_blocked", "lossy_link", "director_failover")


# DEFAULT_TARGET too when TARGETS is a fixed list of names (a ByRole computes the default)
SCENARIO_API = ("TARGETS", "inject", "heal", "expect")


def plan(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(scenario, target) pairs to run, validated before anything is built."""
    if args.rate <= 0 or args.timeout <= 0:
        raise LabError("--rate and --timeout must be positive numbers")
    if args.repeat < 1:
        raise LabError(f"--repeat {args.repeat}: give a count of 1 or more")
    if args.jobs is not None and args.jobs < 1:
        raise LabError(f"--jobs {args.jobs}: give a count of 1 or more")
    for mode, flag in (("check", "--check"), ("cli", "--cli")):
        clash = [o for o, given in (("--scenario", args.scenario), ("--target", args.target), ("--repeat", args.repeat > 1),
                                    ("--fresh", args.fresh), ("--check", mode == "cli" and args.check)) if given]
        if getattr(args, mode) and clash:
            what = "brings the lab up, prints its status and tears it down" if mode == "check" else "opens the interactive lab"
            raise LabError(f"{flag} {what}: it runs no scenario, drop {', '.join(clash)} (or drop {flag} to run scenarios)")
    if args.check or args.cli:  # the lab alone: nothing to deal to jobs
        return []
    names = args.scenario.split(",") if args.scenario else list(DEFAULT_SCENARIOS)
    _, spec = lab_spec(args)
    out = []
    for name in (n.strip() for n in names):
        if name.endswith(".py"):  # the user's own scenario file; absolute, so analysis finds it again
            name = str(Path(name).resolve())
        module = scenarios.load(name)
        missing = [a for a in SCENARIO_API if not hasattr(module, a)]
        if hasattr(module, "TARGETS") and not targets.by_role(module) and not hasattr(module, "DEFAULT_TARGET"):
            missing.insert(1, "DEFAULT_TARGET")
        if missing:
            raise LabError(f"scenario {name} lacks {', '.join(missing)}; see scenarios/stop_keepalived.py for the shape")
        choices = targets.of(module, spec)
        if not choices and not args.scenario:  # a default scenario this lab has nothing for
            print(f"{name}: skipped, lab {spec.name} has no host it can target", file=sys.stderr, flush=True)
            continue
        target = args.target or targets.default(module, spec)
        if target not in choices:
            raise LabError(f"scenario {name} cannot target {target!r}; choose one of {', '.join(choices)} (--target)")
        out.append((name, target))
    return out


def check_body(lab: "Lab", folder: Path, say: Progress) -> bool:
    from labs import status
    from labs.lab import converge

    snap = converge.take(lab)
    found = converge.problems(lab, snap)
    print(status.text(lab.spec, snap), flush=True)
    if found:  # the exit status says it; this line says why
        print(f"not as configured: {'; '.join(found)}", flush=True)
    else:
        print("as configured: every VIP on its master, every IPVS table complete, HTTP answered as expected", flush=True)
    ok = not found
    jsonfile.write(folder / "status.json", {"converged": ok, "converged_after": lab.converged_after, **snap.to_json()})
    return ok


def cli_body(rate: float, timeout: float, probe: bool, lab: "Lab", folder: Path, say: Progress) -> bool:
    from labs.cli import LabCLI
    from labs.experiment import ProbeSettings

    say("lab up; type `help` for Mininet's and the lab's commands, `exit` to tear down")
    LabCLI(lab, ProbeSettings(rate=rate, timeout=timeout), probe=probe)  # returns when the user leaves
    return True


def run_native(args: argparse.Namespace, argv: list[str], backend: str, reason: str) -> int:
    """Bring the lab up on this kernel: a status check, or each planned scenario."""
    if args.cli:
        body = functools.partial(cli_body, args.rate, args.timeout, not args.no_probe)
        ok, _ = with_lab(args, argv, backend, reason, "cli", body, probe={"rate": args.rate, "timeout": args.timeout})
        return 0 if ok else 1
    runs = plan(args)
    if not runs:
        ok, _ = with_lab(args, argv, backend, reason, "check", check_body)
        return 0 if ok else 1
    from labs import analyze, experiment, plot
    from labs.analysis.summary import table

    settings = experiment.ProbeSettings(rate=args.rate, timeout=args.timeout)
    accounting = resources.Accounting()
    summaries, folders, usage = [], [], []
    total = len(runs) * args.repeat
    # One converged lab for every run (a run that leaves it unhealthy gets the next a fresh
    # one), or with --fresh a lab per run, as isolated as runs can be.
    shared = None if args.fresh else SharedLab(args, argv, backend, reason)
    on_a_lab = shared.run if shared else functools.partial(with_lab, args, argv, backend, reason)
    try:
        for n, (name, target) in enumerate((r for r in runs for _ in range(args.repeat)), 1):
            module = scenarios.load(name)
            print(f"=== [{n}/{total}] {name} on {target}", flush=True)

            def body(lab: "Lab", folder: Path, say: Progress) -> bool:
                experiment.run(lab, module, target, settings, say)
                return True

            ran, folder = on_a_lab(Path(name).stem, body, scenario=name, target=target,
                                   probe={"rate": settings.rate, "timeout": settings.timeout})
            folders.append(folder)
            if ran:
                summary = analyze.analyze(folder)
                print(table(summary), flush=True)
                if args.part:  # a job's plots are drawn by the command that started it, now (labs.jobs)
                    print(f"{jobs.FINISHED}{folder}", flush=True)
                else:
                    print(f"report: {plot.draw(folder)[-1]}", flush=True)
            else:
                why = "the scenario raised (error.txt)" if (folder / "error.txt").exists() else "bring-up failed"
                summary = {"scenario": name, "target": target, "verdict": "fail", "reason": why, "phases": []}
            summaries.append(summary)
            usage.append(accounting.usage().to_json())  # after analysis and plots: they are part of a run
    finally:
        if shared:
            shared.close(Progress())
    labs_built = shared.labs_built if shared else total
    if shared:
        print(f"{labs_built} lab(s) built for {total} run(s)", flush=True)
    if args.part:  # one of --jobs N: the command that started it reports the suite
        args.part.write_text(json.dumps({"runs": [f.name for f in folders], "usage": usage, "labs_built": labs_built}))
        return 0 if all(s["verdict"] == "pass" for s in summaries) else 1
    return report_suite(args, folders, summaries, usage, labs_built)


def report_suite(args: argparse.Namespace, folders: list[Path], summaries: list[dict], usage: list[dict],
                 labs_built: int, n_jobs: int = 1) -> int:
    """The summary of several runs (table, suite.json, spread over repeats); the exit status."""
    from labs import plot
    from labs.analysis import suite
    from labs.analysis import summary as flat_summary

    total = len(summaries)
    passed = sum(s["verdict"] == "pass" for s in summaries)
    if total > 1:
        print(f"\n=== summary of {total} runs", flush=True)
        print(suite.table(summaries), flush=True)
        report = {"runs": [f.name for f in folders], "verdicts": [s["verdict"] for s in summaries],
                  "repeat": args.repeat, "labs": "fresh" if args.fresh else "shared", "jobs": n_jobs,
                  "labs_built": labs_built, "resources_after_each_run": usage}
        print(resources.table(usage), flush=True)
        if args.repeat > 1:
            report["spread"] = suite.repeat_stats(summaries)
            print(f"\n=== spread over {args.repeat} repeats", flush=True)
            print(suite.repeat_table(report["spread"]), flush=True)
        suite_folder = results.new_folder(args.results, lab_spec(args)[1].name, "suite")
        jsonfile.write(suite_folder / "suite.json", report)
        flat_summary.write_csv(suite_folder / "expectations.csv",
                               [row for f, s in zip(folders, summaries) for row in flat_summary.flat(s, f.name)])
        if args.repeat > 1:
            plot.draw_suite(suite_folder)
        results.finish(suite_folder, latest=False)
        print(f"suite: {suite_folder}", flush=True)
    if args.junit_xml:
        junit.write(args.junit_xml, lab_spec(args)[1].name, folders, summaries)
        print(f"JUnit XML: {args.junit_xml}", flush=True)
    print(f"{passed} of {total} scenario run(s) passed", flush=True)
    return 0 if passed == total else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if args.list:
        def listing() -> int:
            spec = listed_lab(args)
            if args.json:
                emit_json(catalogue(spec), sys.stdout)
            else:
                print(list_all(spec))
            return 0

        return entry(PROG, listing)
    if args.dump:
        return entry(PROG, lambda: dump(args))
    if args.json and not os.environ.get("HALAB_IN_UML"):  # inside UML the outer command reports
        return main_json(args, argv)

    def go() -> int:
        ipvs = lab_spec(args)[1].needs_ipvs  # a bad topology, variant, --servers or --set: one line, before anything runs
        runs = plan(args)
        results.check_writable(args.results)  # the user's input first, then this machine's programs
        requirements.check()
        # Runs under User-mode Linux go as jobs (one or more kernels) even one at a time:
        # each run's plots are then drawn on the host while the next run goes on.
        if not os.environ.get("HALAB_IN_UML") and not args.part and runs and (
                jobs.count(args, len(runs) * args.repeat, ipvs) > 1 or kernel.choose(args.kernel, ipvs).backend == "uml"):
            return jobs.run(args, argv, runs)
        where = kernel.dispatch("labs.run", argv, args.kernel, args.results, interactive=args.cli, ipvs=ipvs,
                                cpu=args.cpu)
        if isinstance(where, int):
            return where
        return run_native(args, argv, *where)

    return guarded(PROG, go, args.results)


def dump(args: argparse.Namespace) -> int:
    """--dump DIR: the topology as a lab file (labs.labfile.dump)."""
    from labs import labfile

    if labfile.is_lab_file(args.topology):
        raise LabError(f"--dump writes a Python topology as a lab file; {args.topology} already is one")
    written = labfile.dump(lab_spec(args)[1], args.dump)
    print(f"lab file: {written} (run it: python -m labs.run {written})")
    return 0


def main_json(args: argparse.Namespace, argv: list[str]) -> int:
    """--json: the command as usual with its progress on stderr, then one document on stdout
    made from the folders it wrote: each run's summary.json and the suite's, or the status."""
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        before = results.entries(args.results) if args.results.exists() else set()
        code = main([a for a in argv if a != "--json"])
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
