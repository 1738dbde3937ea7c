"""`python -m labs.run`: bring a lab up (natively or inside User-mode Linux), check it, tear it down."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

import scenarios
import topologies
from labs import kernel, requirements, results
from labs.errors import LabError

PROG = "python -m labs.run"


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Build a keepalived + LVS (IPVS DR) + nginx lab in network namespaces, "
        "with real daemons, and check that it converges.",
    )
    p.add_argument("topology", nargs="?", help="topology to build (see --list)")
    p.add_argument("--list", action="store_true", help="list topologies and scenarios, then exit")
    p.add_argument("--check", action="store_true",
                   help="bring the lab up, print its status table, tear it down; exit 0 only if it converged")
    p.add_argument("--kernel", choices=kernel.CHOICES, default="auto",
                   help="native: the host kernel (root and IPVS needed); uml: User-mode Linux "
                   "(no root needed); auto (default): native when possible, else uml")
    p.add_argument("--results", type=Path, default=results.DEFAULT_ROOT, metavar="DIR",
                   help=f"where run folders are written (default: {results.DEFAULT_ROOT})")
    args = p.parse_args(argv)
    if not args.list and not args.topology:
        p.error("name a topology (e.g. dual_master), or use --list")
    return args


def list_all() -> str:
    lines = ["topologies:"]
    for name in topologies.names():
        lines.append(f"  {name:16} {topologies.load(name).spec().description}")
    lines.append("scenarios:")
    lines += [f"  {name}" for name in scenarios.names()] or ["  (none yet)"]
    return "\n".join(lines)


class Progress:
    """Timestamped progress lines, so long bring-ups show where they are."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.t0:6.1f}s] {message}", flush=True)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def run_native(args: argparse.Namespace, argv: list[str], backend: str, reason: str) -> int:
    """Bring the lab up on this kernel, print its status, tear it down."""
    from labs import status
    from labs.lab import converge
    from labs.lab.lab import Lab

    module = topologies.load(args.topology)
    spec = module.spec()
    folder = results.new_folder(args.results, spec.name, "check")
    say = Progress()
    say(f"results: {folder}")
    results.write_run_info(folder, argv, backend, reason)
    lab = Lab(spec, module.TOPO(), folder, say)
    ok = False
    try:
        try:
            took = lab.up()
        except LabError as e:
            say(f"bring-up failed: {e}")
            (folder / "status.json").write_text(json.dumps({"converged": False, "error": str(e)}, indent=1))
            return 1
        snap = converge.take(lab)
        ok = not converge.problems(lab, snap)
        say(f"converged {took:.1f} s after the daemons started")
        print(status.render(spec, snap), flush=True)
        (folder / "status.json").write_text(
            json.dumps({"converged": ok, "converged_after": took, **snap.to_json()}, indent=1)
        )
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break teardown
        lab.down()
        say("torn down")
        results.finish(folder)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if args.list:
        print(list_all())
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    try:
        topologies.load(args.topology)
        requirements.check()
        if os.environ.get("HALAB_IN_UML"):
            return run_native(args, argv, "uml", os.environ.get("HALAB_KERNEL_REASON", "inside User-mode Linux"))
        choice = kernel.choose(args.kernel)
        print(f"kernel: {choice.backend} ({choice.reason})", flush=True)
        if choice.backend == "uml":
            from labs.kernel import uml

            problem = uml.results_problem(args.results)
            if problem:
                raise LabError(problem)
            inner = [sys.executable, "-m", "labs.run", *argv]
            os.environ["HALAB_KERNEL_REASON"] = choice.reason
            return uml.run(inner)
        return run_native(args, argv, "native", choice.reason)
    except LabError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
