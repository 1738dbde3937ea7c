"""A lab session: one lab brought up in a new results folder, a body run on it, always torn
down, its folder finished — what `labs.run` and `labs.bench_lab` do around their work."""
from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from labs.common import jsonfile

from labs.common import results
from labs.common.errors import LabError
from labs.plan.runplan import RunPlan
from labs.spec.timing import convergence_bound

if TYPE_CHECKING:
    from labs.lab.lab import Lab
    from labs.spec import LabSpec


class Progress:
    """Timestamped progress lines, so long bring-ups show where they are."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.t0:6.1f}s] {message}", flush=True)


def hosts_info(spec: "LabSpec") -> dict[str, dict[str, str]]:
    """run.json's `hosts`: each host's address, role and (a lab file's) config id: the analysis reads only files."""
    return {h.name: {"address": h.ip, "role": h.role, **({"config_id": f.config_id} if f and f.config_id else {})}
            for h in spec.hosts for f in (spec.files_of(h.name),)}


def _write_run_info(plan: RunPlan, folder: Path, backend: str, reason: str, **info: object) -> None:
    results.write_run_info(folder, list(plan.argv), backend, reason, variant=plan.lab.variant,
                           topology_params=dict(plan.lab.params), hosts=hosts_info(plan.spec),
                           settings=dict(plan.lab.settings), **info)


def with_lab(plan: RunPlan, backend: str, reason: str, what: str,
             body: Callable[["Lab", Path, Progress], bool], **info: object) -> tuple[bool, Path]:
    """Bring the plan's lab up in a new results folder, run `body`, always tear down."""
    from labs.lab.lab import Lab  # Mininet and pyroute2: only once a lab is built

    what = plan.folder_name(what)
    folder = results.new_folder(plan.results, plan.spec.name, what)
    say = Progress()
    say(f"results: {folder}")
    _write_run_info(plan, folder, backend, reason, **info)
    lab = Lab(plan.spec, folder, say)
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

    def __init__(self, plan: RunPlan, backend: str, reason: str) -> None:
        self.plan, self.backend, self.reason = plan, backend, reason
        self.spec = plan.spec
        self.lab: "Lab | None" = None
        self.lab_folder: Path | None = None
        self.lab_info: dict[str, object] = {}
        self.labs_built = 0
        self.last_run = ""  # the run the health gate is still to judge the lab after
        self.running = ""  # the run begun last (its folder's last word)

    def _up(self, say: Progress) -> None:
        from labs.lab.lab import Lab  # Mininet and pyroute2: only once a lab is built

        folder = results.new_folder(self.plan.results, self.spec.name, "lab")
        say(f"bringing up a lab for the runs that follow: {folder}")
        _write_run_info(self.plan, folder, self.backend, self.reason, shared_lab=True)
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
        """One run on the shared lab (brought up first if there is none): `body` on it, in
        a results folder of its own."""
        lab, folder, say = self.begin(what, **info)
        if lab is None:
            return False, folder
        try:
            ok = body(lab, folder, say)
        except Exception as e:  # a scenario's (or our) bug: keep the run's files, say it in one line
            self.end(lab, folder, e)
            return False, folder
        self.end(lab, folder)
        return ok, folder

    def begin(self, what: str, **info: object) -> tuple["Lab | None", Path, Progress]:
        """A new results folder the lab records into from now on, the lab brought up (or
        rebuilt, if the last run left it unhealthy) first; no lab if bring-up failed (the
        folder then says why and is finished). `end` closes the folder."""
        what = self.plan.folder_name(what)
        folder = results.new_folder(self.plan.results, self.spec.name, what)
        say = Progress()
        say(f"results: {folder}")
        _write_run_info(self.plan, folder, self.backend, self.reason, **info)
        self.running = what
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
                return None, folder, say
        lab = self.lab
        assert lab is not None
        results.update_run_info(folder, **self.lab_info)
        lab.say = say
        lab.follow(folder)
        self.last_run = ""
        return lab, folder, say

    def end(self, lab: "Lab", folder: Path, failed: Exception | None = None) -> None:
        """The run in `folder` is over: its logs kept, its files handed over; after a
        failure (its traceback kept) the lab is torn down, else judged before the next run."""
        try:
            if failed is not None:
                where = results.save_traceback(folder, failed)
                lab.say(f"{self.running} failed: {type(failed).__name__}: {failed} (traceback: {where}); "
                        "the next run gets a fresh lab")
                self.close(lab.say)
        finally:
            lab.keep_logs()
            results.finish(folder)
        if failed is None:
            self.last_run = self.running

    def gate(self, lab: "Lab") -> list[str]:
        """Why the lab may not serve another run (empty: healthy): debris of the fault, a
        control plane that does not converge within bring-up's bound, or HTTP from the
        client's addresses not answered by every real server — checked at once (after most
        runs each address is still on the server persistence gave it, and together they
        reach both), else once more after the addresses paused for persistence_timeout."""
        from labs.lab import converge  # pyroute2: only on a running lab

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
