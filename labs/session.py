"""A lab session: one lab brought up in a new results folder, a body run on it, always torn
down, its folder finished — what `labs.run` and `labs.bench_lab` do around their work."""
from __future__ import annotations

import argparse
import json
import signal
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Callable

import topologies
from labs import results
from labs.errors import LabError

if TYPE_CHECKING:
    from labs.lab.lab import Lab


class Progress:
    """Timestamped progress lines, so long bring-ups show where they are."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.t0:6.1f}s] {message}", flush=True)


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
