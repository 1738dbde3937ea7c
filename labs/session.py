"""A lab session: one lab brought up in a new results folder, a body run on it, always torn
down, its folder finished — what `labs.run` and `labs.bench_lab` do around their work."""
from __future__ import annotations

import argparse
import dataclasses
import signal
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Callable

import topologies
from labs import jsonfile, results
from labs.errors import LabError

if TYPE_CHECKING:
    from labs.lab.lab import Lab
    from labs.spec import LabSpec


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


def settings(args: argparse.Namespace) -> dict[str, str]:
    """--set NAME=VALUE options as a dict (the last one given for a name wins)."""
    out: dict[str, str] = {}
    for item in getattr(args, "set", None) or []:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise LabError(f"--set {item}: write it as NAME=VALUE, e.g. --set advert_int=0.5")
        out[name.strip()] = value.strip()
    return out


def lab_spec(args: argparse.Namespace) -> tuple[dict[str, int], "LabSpec"]:
    """The lab the command line asks for: a Python topology's parameters and spec (variant,
    --set timers applied), or a lab file's spec (--set written into its configs)."""
    from labs import labfile

    if labfile.is_lab_file(args.topology):
        given = {"--variant": args.variant != "default", "--servers": getattr(args, "servers", None) is not None}
        clash = [flag for flag, on in given.items() if on]
        if clash:
            raise LabError(f"{' and '.join(clash)} change a Python topology; a lab file is changed by editing its configs "
                           "(or by --set NAME=VALUE)")
        return {}, labfile.load(Path(args.topology), settings(args))
    module = topologies.load(args.topology)
    params = topology_params(module, args)
    spec = module.spec(args.variant, **params)
    changed = settings(args)
    if changed:
        spec = dataclasses.replace(spec, timers=spec.timers.with_settings(changed))
    return params, spec


def hosts_info(spec: "LabSpec") -> dict[str, dict[str, str]]:
    """run.json's `hosts`: each host's address, role and (a lab file's) config id: the analysis reads only files."""
    return {h.name: {"address": h.ip, "role": h.role, **({"config_id": f.config_id} if f and f.config_id else {})}
            for h in spec.hosts for f in (spec.files_of(h.name),)}


def with_lab(args: argparse.Namespace, argv: list[str], backend: str, reason: str, what: str,
             body: Callable[["Lab", Path, Progress], bool], **info: object) -> tuple[bool, Path]:
    """Bring a lab up in a new results folder, run `body`, always tear down."""
    from labs.lab.lab import Lab

    params, spec = lab_spec(args)
    if args.variant != "default":
        what = f"{what}-{args.variant}"
    folder = results.new_folder(args.results, spec.name, what)
    say = Progress()
    say(f"results: {folder}")
    results.write_run_info(folder, argv, backend, reason, variant=args.variant, topology_params=params, hosts=hosts_info(spec),
                           settings=settings(args), **info)
    lab = Lab(spec, folder, say)
    try:
        try:
            took = lab.up(idle=lambda: results.update_run_info(folder, versions=results.tool_versions()))
        except LabError as e:
            say(f"bring-up failed: {e}")
            jsonfile.write(folder / "status.json", {"converged": False, "error": str(e)})
            return False, folder
        say(f"converged {took:.1f} s after the daemons started")
        results.update_run_info(folder, process_start_s=round(lab.process_start, 4),
                                keepalived_start_s=round(lab.keepalived_start(), 4), converged_after_s=round(took, 3),
                                config_changes=lab.config_changes())
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


class SharedLab:
    """One converged lab for many scenario runs. Each run gets a complete results folder of
    its own (`Lab.follow`); after it the lab must pass the health gate — converged by the
    same check bring-up uses (VIPs on their holders, both IPVS tables complete, every
    daemon running, HTTP answered by every real server from the client's addresses) and
    nothing of the fault left (`Lab.debris`) — or it is torn down, saying why, and the next
    run gets a fresh one. The lab's own folder (`…-lab`) keeps its bring-up, configs and
    full logs."""

    def __init__(self, args: argparse.Namespace, argv: list[str], backend: str, reason: str) -> None:
        self.args, self.argv, self.backend, self.reason = args, argv, backend, reason
        self.params, self.spec = lab_spec(args)
        self.lab: "Lab | None" = None
        self.lab_folder: Path | None = None
        self.lab_info: dict[str, object] = {}
        self.labs_built = 0
        self.last_run = ""  # the run the health gate is still to judge the lab after

    def _up(self, say: Progress) -> None:
        from labs.lab.lab import Lab

        folder = results.new_folder(self.args.results, self.spec.name, "lab")
        say(f"bringing up a lab for the runs that follow: {folder}")
        results.write_run_info(folder, self.argv, self.backend, self.reason, variant=self.args.variant,
                               hosts=hosts_info(self.spec),
                               settings=settings(self.args), topology_params=self.params, shared_lab=True)
        lab = Lab(self.spec, folder, say)
        self.lab, self.lab_folder = lab, folder
        self.labs_built += 1
        versions: dict[str, str] = {}
        try:
            took = lab.up(idle=lambda: versions.update(results.tool_versions()))
        except LabError as e:
            jsonfile.write(folder / "status.json", {"converged": False, "error": str(e)})
            raise
        say(f"converged {took:.1f} s after the daemons started")
        self.lab_info = {"versions": versions, "process_start_s": round(lab.process_start, 4),
                         "keepalived_start_s": round(lab.keepalived_start(), 4), "converged_after_s": round(took, 3),
                         "lab": folder.name, "config_changes": lab.config_changes()}
        results.update_run_info(folder, **self.lab_info)

    def run(self, what: str, body: Callable[["Lab", Path, Progress], bool], **info: object) -> tuple[bool, Path]:
        """One run on the shared lab (brought up first if there is none)."""
        if self.args.variant != "default":
            what = f"{what}-{self.args.variant}"
        folder = results.new_folder(self.args.results, self.spec.name, what)
        say = Progress()
        say(f"results: {folder}")
        results.write_run_info(folder, self.argv, self.backend, self.reason, variant=self.args.variant,
                               hosts=hosts_info(self.spec),
                               settings=settings(self.args), topology_params=self.params, **info)
        if self.lab is not None and self.last_run:  # judged now, after the last run's analysis
            problems = self.gate(self.lab)
            if problems:
                why = f"the lab is not healthy after {self.last_run} ({'; '.join(problems)})"
                say(f"{why}: this run gets a fresh lab")
                results.update_run_info(folder, fresh_lab_because=why)
                self.close(say)
        if self.lab is None:
            try:
                self._up(say)
            except LabError as e:
                say(f"bring-up failed: {e}")
                jsonfile.write(folder / "status.json", {"converged": False, "error": str(e)})
                self.close(say)
                results.finish(folder)
                return False, folder
        lab = self.lab
        assert lab is not None
        results.update_run_info(folder, **self.lab_info)
        lab.say = say
        lab.follow(folder)
        self.last_run = ""
        try:
            ok = body(lab, folder, say)
        except Exception as e:  # a scenario's (or our) bug: keep the run's files, say it in one line
            where = results.save_traceback(folder)
            say(f"{what} failed: {type(e).__name__}: {e} (traceback: {where}); the next run gets a fresh lab")
            self.close(say)
            return False, folder
        finally:
            lab.keep_logs()
            results.finish(folder)
        self.last_run = what
        return ok, folder

    def gate(self, lab: "Lab") -> list[str]:
        """Why the lab may not serve another run (empty: healthy): debris of the fault, a
        control plane that does not converge within bring-up's bound, or HTTP from the
        client's addresses not answered by every real server — checked at once (after most
        runs each address is still on the server persistence gave it, and together they
        reach both), else once more after the addresses paused for persistence_timeout."""
        from labs.lab import converge
        from labs.timing import convergence_bound

        found = lab.debris()
        if found:
            return found
        snap = converge.take(lab, with_http=False)
        if not converge.problems(lab, snap, settled=True):  # settled, but a nopreempt VIP rests elsewhere:
            found = converge.problems(lab, snap)  # it will not come back, waiting is no use
            if found:
                return found
        else:
            try:  # the control plane may still be settling (a checker re-adding a server): wait for it
                converge.wait(lab, time.monotonic(), convergence_bound(lab.spec), with_http=False)
            except LabError as e:
                return [str(e).splitlines()[1].strip() if "\n" in str(e) else str(e)]
        # The IPVS tables were just found complete: HTTP (and the VIPs again) is what is left.
        found = converge.problems(lab, converge.take(lab, with_ipvs=False))
        pause = lab.spec.timers.persistence_timeout + 1.0 if lab.spec.timers.persistence_timeout else 0.0
        if not found or not pause:
            return found
        # Not every server answered: the addresses may have been moved during the fault.
        # A template expires once its address paused for persistence_timeout, unless
        # connection entries it made live on (minutes in DR mode): one more try after the
        # pause, then a fresh lab, which is quicker than waiting and as clean as the first.
        time.sleep(pause)
        return converge.problems(lab, converge.take(lab))

    def close(self, say: Progress) -> None:
        """Tear the lab down (if one is up); Ctrl-C waits for it, then stops the command."""
        lab, folder = self.lab, self.lab_folder
        self.lab = self.lab_folder = None
        if lab is None or folder is None:
            return
        lab.say = say
        interrupted = _teardown(lab, say)
        results.finish(folder, latest=False)
        if interrupted:
            raise KeyboardInterrupt
