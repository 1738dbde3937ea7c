"""`python -m labs.run`: bring a lab up (natively or inside User-mode Linux), check it, tear it down."""
from __future__ import annotations

import argparse
import functools
import json
import signal
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Callable

import scenarios
import topologies
from labs import kernel, requirements, results
from labs.lab import resources
from labs.errors import LabError

if TYPE_CHECKING:
    from labs.lab.lab import Lab

PROG = "python -m labs.run"


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Build a keepalived + LVS (IPVS DR) + nginx lab in network namespaces with "
        "real daemons, break it with fault scenarios and measure how it heals.",
    )
    p.add_argument("topology", nargs="?", help="topology to build (see --list)")
    p.add_argument("--list", action="store_true", help="list topologies and scenarios, then exit")
    p.add_argument("--check", action="store_true",
                   help="bring the lab up, print its status table, tear it down; exit 0 only if it converged")
    p.add_argument("--cli", action="store_true",
                   help="bring the lab up and open Mininet's CLI with lab commands (status, fail, heal, probe, plot)")
    p.add_argument("--kernel", choices=kernel.CHOICES, default="auto",
                   help="native: the host kernel (root and IPVS needed); uml: User-mode Linux "
                   "(no root needed); auto (default): native when possible, else uml")
    p.add_argument("--scenario", metavar="NAME[,NAME]",
                   help=f"scenario(s) to run (default: {','.join(DEFAULT_SCENARIOS)}); see --list. "
                   "A path ending in .py runs your own scenario file (same shape as scenarios/*.py)")
    p.add_argument("--variant", default="default", metavar="NAME",
                   help="configuration variant: the seed's mistakes, 'fast', ... (see --list)")
    p.add_argument("--target", metavar="HOST", help="host the scenario breaks (default: the scenario's own)")
    p.add_argument("--servers", type=int, metavar="N",
                   help="number of real servers, for topologies that take it (scale: even, 2-32)")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run each scenario N times and report min/median/p95/max of each figure")
    p.add_argument("--rate", type=float, default=50.0, help="probe requests per second per VIP (default 50)")
    p.add_argument("--timeout", type=float, default=1.0, help="probe timeout per request in seconds (default 1)")
    p.add_argument("--results", type=Path, default=results.DEFAULT_ROOT, metavar="DIR",
                   help=f"where run folders are written (default: {results.DEFAULT_ROOT})")
    args = p.parse_args(argv)
    if not args.list and not args.topology:
        p.error("name a topology (e.g. dual_master), or use --list")
    return args


def list_all() -> str:
    lines = ["topologies:"]
    for name in topologies.names():
        module = topologies.load(name)
        lines.append(f"  {name:16} {module.spec().description}")
        for variant, (what, _) in getattr(module, "VARIANTS", {}).items():
            lines.append(f"    --variant {variant:16} {what}")
    lines.append("scenarios:")
    for name in scenarios.names():
        module = scenarios.load(name)
        summary = (module.__doc__ or "").split("\n")[0].split(": ", 1)[-1]
        lines.append(f"  {name:16} {summary} (targets: {', '.join(module.TARGETS)})")
    return "\n".join(lines)


class Progress:
    """Timestamped progress lines, so long bring-ups show where they are."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.t0:6.1f}s] {message}", flush=True)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


DEFAULT_SCENARIOS = ("kill_nginx", "nginx_down", "stop_keepalived", "crash_keepalived", "link_down", "blackhole",
                     "link_flap", "split_brain", "real_server_down", "persistence")


SCENARIO_API = ("TARGETS", "DEFAULT_TARGET", "inject", "heal", "expect")


def plan(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(scenario, target) pairs to run, validated before anything is built."""
    if args.rate <= 0 or args.timeout <= 0:
        raise LabError("--rate and --timeout must be positive numbers")
    if args.repeat < 1:
        raise LabError(f"--repeat {args.repeat}: give a count of 1 or more")
    if args.check:
        return []
    names = args.scenario.split(",") if args.scenario else list(DEFAULT_SCENARIOS)
    out = []
    for name in (n.strip() for n in names):
        if name.endswith(".py"):  # the user's own scenario file; absolute, so analysis finds it again
            name = str(Path(name).resolve())
        module = scenarios.load(name)
        missing = [a for a in SCENARIO_API if not hasattr(module, a)]
        if missing:
            raise LabError(f"scenario {name} lacks {', '.join(missing)}; see scenarios/stop_keepalived.py for the shape")
        target = args.target or module.DEFAULT_TARGET
        if target not in module.TARGETS:
            raise LabError(f"scenario {name} cannot target {target!r}; choose one of {', '.join(module.TARGETS)} (--target)")
        out.append((name, target))
    return out


def topology_params(module: ModuleType, args: argparse.Namespace) -> dict[str, int]:
    """Parameters the command line gives the topology (only those it declares)."""
    if args.servers is None:
        return {}
    if "servers" not in getattr(module, "PARAMETERS", ()):
        takes = [n for n in topologies.names() if "servers" in getattr(topologies.load(n), "PARAMETERS", ())]
        raise LabError(f"topology {args.topology} has a fixed set of servers; --servers works with: {', '.join(takes)}")
    return {"servers": args.servers}


def with_lab(args: argparse.Namespace, argv: list[str], backend: str, reason: str, what: str,
             body: Callable[["Lab", Path, Progress], bool], **info: object) -> tuple[bool, Path]:
    """Bring a lab up in a new results folder, run `body`, always tear down."""
    from labs.lab.lab import Lab

    module = topologies.load(args.topology)
    params = topology_params(module, args)
    spec = module.spec(args.variant, **params)
    if args.variant != "default":
        what = f"{what}-{args.variant}"
    folder = results.new_folder(args.results, spec.name, what)
    say = Progress()
    say(f"results: {folder}")
    results.write_run_info(folder, argv, backend, reason, variant=args.variant, topology_params=params, **info)
    lab = Lab(spec, module.TOPO(args.variant, **params), folder, say)
    try:
        try:
            took = lab.up()
        except LabError as e:
            say(f"bring-up failed: {e}")
            (folder / "status.json").write_text(json.dumps({"converged": False, "error": str(e)}, indent=1))
            return False, folder
        say(f"converged {took:.1f} s after the daemons started")
        results.update_run_info(folder, process_start_s=round(lab.process_start, 4),
                                keepalived_start_s=round(lab.keepalived_start(), 4), converged_after_s=round(took, 3))
        return body(lab, folder, say), folder
    except Exception as e:  # a scenario's (or our) bug: keep the run's files, say it in one line
        where = results.save_traceback(folder)
        say(f"{what} failed: {type(e).__name__}: {e} (traceback: {where})")
        return False, folder
    finally:
        interrupted = _teardown(lab, say)
        results.finish(folder)
        if interrupted:
            raise KeyboardInterrupt


def _teardown(lab: "Lab", say: Progress) -> bool:
    """Tear down with Ctrl-C held back (a half-done teardown leaves debris); True if one came."""
    pressed: list[int] = []

    def hold(signum: int, frame: object) -> None:
        if not pressed:
            print("Ctrl-C: finishing the teardown first", flush=True)
        pressed.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        say("tearing down")
        lab.down()
        say("torn down")
    finally:
        signal.signal(signal.SIGINT, previous)
    return bool(pressed)


def check_body(lab: "Lab", folder: Path, say: Progress) -> bool:
    from labs import status
    from labs.lab import converge

    snap = converge.take(lab)
    ok = not converge.problems(lab, snap)
    print(status.render(lab.spec, snap), flush=True)
    (folder / "status.json").write_text(
        json.dumps({"converged": ok, "converged_after": lab.converged_after, **snap.to_json()}, indent=1)
    )
    return ok


def cli_body(rate: float, timeout: float, lab: "Lab", folder: Path, say: Progress) -> bool:
    from labs.cli import LabCLI
    from labs.experiment import ProbeSettings

    say("lab up; type `help` for Mininet's and the lab's commands, `exit` to tear down")
    try:
        LabCLI(lab, ProbeSettings(rate=rate, timeout=timeout))
    finally:
        if lab.probe is not None:
            lab.probe.stop()
            lab.probe = None
    return True


def run_native(args: argparse.Namespace, argv: list[str], backend: str, reason: str) -> int:
    """Bring the lab up on this kernel: a status check, or each planned scenario."""
    if args.cli:
        body = functools.partial(cli_body, args.rate, args.timeout)
        ok, _ = with_lab(args, argv, backend, reason, "cli", body, probe={"rate": args.rate, "timeout": args.timeout})
        return 0 if ok else 1
    runs = plan(args)
    if not runs:
        ok, _ = with_lab(args, argv, backend, reason, "check", check_body)
        return 0 if ok else 1
    from labs import analyze, experiment, plot
    from labs.analysis import suite
    from labs.analysis.summary import table

    settings = experiment.ProbeSettings(rate=args.rate, timeout=args.timeout)
    accounting = resources.Accounting()
    summaries, folders, usage = [], [], []
    total = len(runs) * args.repeat
    for n, (name, target) in enumerate((r for r in runs for _ in range(args.repeat)), 1):
        module = scenarios.load(name)
        print(f"=== [{n}/{total}] {name} on {target}", flush=True)

        def body(lab: "Lab", folder: Path, say: Progress) -> bool:
            experiment.run(lab, module, target, settings, say)
            return True

        ran, folder = with_lab(args, argv, backend, reason, Path(name).stem, body, scenario=name, target=target,
                               probe={"rate": settings.rate, "timeout": settings.timeout})
        folders.append(folder)
        if ran:
            summary = analyze.analyze(folder)
            print(table(summary), flush=True)
            print(f"report: {plot.draw(folder)[-1]}", flush=True)
        else:
            why = "the scenario raised (error.txt)" if (folder / "error.txt").exists() else "bring-up failed"
            summary = {"scenario": name, "target": target, "verdict": "fail", "reason": why, "phases": []}
        summaries.append(summary)
        usage.append(accounting.usage().to_json())  # after analysis and plots: they are part of a run
    passed = sum(s["verdict"] == "pass" for s in summaries)
    if total > 1:
        print(f"\n=== summary of {total} runs", flush=True)
        print(suite.table(summaries), flush=True)
        report = {"runs": [f.name for f in folders], "verdicts": [s["verdict"] for s in summaries],
                  "repeat": args.repeat, "resources_after_each_run": usage}
        print(resources.table(usage), flush=True)
        if args.repeat > 1:
            report["spread"] = suite.repeat_stats(summaries)
            print(f"\n=== spread over {args.repeat} repeats", flush=True)
            print(suite.repeat_table(report["spread"]), flush=True)
        suite_folder = results.new_folder(args.results, args.topology, "suite")
        (suite_folder / "suite.json").write_text(json.dumps(report, indent=1))
        if args.repeat > 1:
            plot.draw_suite(suite_folder)
        results.finish(suite_folder, latest=False)
        print(f"suite: {suite_folder}", flush=True)
    print(f"{passed} of {total} scenario run(s) passed", flush=True)
    return 0 if passed == total else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if args.list:
        print(list_all())
        return 0

    def go() -> int:
        module = topologies.load(args.topology)
        module.spec(args.variant, **topology_params(module, args))
        plan(args)
        requirements.check()
        results.check_writable(args.results)
        where = kernel.dispatch("labs.run", argv, args.kernel, args.results, interactive=args.cli)
        if isinstance(where, int):
            return where
        return run_native(args, argv, *where)

    return guarded(PROG, go, args.results)


def guarded(prog: str, go: Callable[[], int], results_root: Path) -> int:
    """Every lab command's exits: one line for a LabError (2), Ctrl-C (130), SIGTERM
    (143, tearing down on the way), a bug (1, its traceback kept under `results_root`)."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return go()
    except LabError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug: one line for the user, the traceback kept for the report
        where = results.save_traceback(results_root, time.strftime("error-%Y%m%dT%H%M%SZ.txt", time.gmtime()))
        print(f"{prog}: error: {type(e).__name__}: {e} (a bug; traceback: {where})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
