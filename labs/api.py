"""halab from Python: open a lab, run scenarios on it or break and heal it step by step,
read each judged result and draw it — what `labs.run` and `--cli` do, for a notebook or a
regression test of your own (docs/api.md).

    from labs import api

    api.here()  # on a kernel without IPVS: this script again, inside User-mode Linux
    with api.open_lab("dual_master", settings={"advert_int": "2"}) as lab:
        result = lab.run("stop_keepalived")
        print(result.verdict, result.failures)
        with lab.steps() as steps:
            steps.fail("stop_keepalived", "lvs2")
            print(steps.heal().verdict)

The lab runs in this process, so it needs what `labs.run` needs natively (root, a kernel
with IPVS) or to be inside User-mode Linux already, which `here()` arranges for a script.
"""
from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from labs import analyze, kernel
from labs.analysis import data
from labs.analysis.summary import table as summary_table

from labs.common import requirements

from labs.common import results

from labs.lab import suite
from labs.common.errors import LabError
from labs.plan.runplan import ProbeSettings, RunPlan, choose_lab
from labs.plan.scenario import load as load_scenario
from labs.lab.session import Progress, SharedLab

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from labs.lab.experiment import Judged, Steps


@dataclass(frozen=True)
class Result:
    """A judged run (or one step of a session): its folder and summary.json, read as values."""

    folder: Path
    summary: Mapping[str, Any]

    @property
    def verdict(self) -> str:
        """"pass", "fail", or "disturbed" (nothing failed but the probe's timing did: the figures
        cannot be trusted; summary["measurement"] says why); "none" when nothing was judged."""
        return str(self.summary["verdict"])

    @property
    def failures(self) -> list[str]:
        """Why each failed expectation failed (empty when the verdict is pass)."""
        return [e["reason"] for p in self.summary.get("phases", []) for e in p["expectations"] if e["verdict"] == "fail"]

    @property
    def reason(self) -> str:
        """The verdict's one-line reason."""
        return str(self.summary["reason"])

    def phase(self, name: str = "inject") -> dict[str, Any]:
        """The judged phase `name` ("inject": the fault, "heal": its healing)."""
        return next(p for p in self.summary["phases"] if p["phase"] == name)

    def expectation(self, vip: str, phase: str = "inject") -> dict[str, Any]:
        """The control-plane expectation about `vip` (its move, release, ...)."""
        return next(e for e in self.phase(phase)["expectations"] if e.get("vip") == vip and e["kind"] != "clients")

    def client_expectation(self, vip: str, phase: str = "inject") -> dict[str, Any]:
        """The clients of LVS VIP `vip` whole again within the model's bound: `verdict`,
        `measured_s` (the last failure), `failed`, `still_failing_at_end`, `stale_arp`."""
        return next(e for e in self.phase(phase)["expectations"] if e.get("vip") == vip and e["kind"] == "clients")

    def failover(self, vip: str, phase: str = "inject") -> float | None:
        """Fault -> the VIP up on its new holder, in seconds (None if it never moved)."""
        return self.expectation(vip, phase)["measured_s"]

    def clients(self, vip: str, phase: str = "inject") -> dict[str, Any]:
        """What clients of an LVS VIP saw: failed, error_window, whole_after_s, ongoing, longest_gap_s, ..."""
        return self.phase(phase)["clients"][vip]

    def table(self) -> str:
        """The table labs.run prints after a run."""
        return summary_table(dict(self.summary))

    def timeline(self) -> "Figure":
        """The run's timeline as a matplotlib figure (shown inline in Jupyter)."""
        from labs.report import charts  # matplotlib: only to draw

        return charts.timeline(data.load(self.folder), dict(self.summary))

    def draw(self) -> list[Path]:
        """timeline, distribution and report.html written into the run's folder."""
        from labs import plot  # matplotlib: only to draw

        return plot.draw(self.folder)


def here(kernel_choice: str = "auto", results_root: Path = results.DEFAULT_ROOT) -> None:
    """Make sure this script's labs can run in this process: natively (root, IPVS), or
    already inside User-mode Linux; else run the whole script again inside User-mode Linux
    and end this process with its exit status. Call it first: what ran before it runs twice."""
    script = Path(sys.argv[0]).resolve()
    if script.suffix != ".py":
        raise LabError("labs.api.here() re-runs a script (python FILE.py); in a notebook the lab needs root and a "
                       "kernel with IPVS (or run the notebook's code as a script)")
    where = kernel.dispatch(str(script), sys.argv[1:], kernel_choice, results_root.absolute())
    if isinstance(where, int):
        sys.exit(where)


class OpenLab:
    """A converged lab shared by the runs made on it, each in a results folder of its own
    (rebuilt when a run leaves it unhealthy, as labs.run's shared lab is)."""

    def __init__(self, plan: RunPlan, backend: str, reason: str) -> None:
        self.plan = plan
        self.shared = SharedLab(plan, backend, reason)

    def run(self, scenario: str, target: str | None = None) -> Result:
        """One scenario run, judged: probes, baseline, fault, observation, heal, recovery."""
        ((name, chosen),) = suite.choose_runs(self.plan.spec, [scenario], target)
        ok, folder = suite.run_one(self.shared.run, self.plan, name, chosen)
        if not ok:
            raise LabError(f"{name} on {chosen} did not run: {_why(folder)}")
        return Result(folder, analyze.analyze(folder))

    @contextlib.contextmanager
    def steps(self, probe: bool = True) -> Iterator["Session"]:
        """A session on the lab, as `--cli` has: the client probe running, `fail` and `heal`
        each judged once the model's window has passed; the whole session one folder.
        What is still injected when the block ends is healed."""
        from labs.lab import experiment  # Mininet, pyroute2: only once a lab runs

        lab, folder, _ = self.shared.begin("steps", probe={"rate": self.plan.probe.rate, "timeout": self.plan.probe.timeout})
        if lab is None:
            raise LabError(f"the lab did not come up: {_why(folder)}")
        steps = experiment.Steps(lab, self.plan.probe, probe=probe)
        try:
            yield Session(steps, folder)
        except Exception as e:
            steps.close()
            self.shared.end(lab, folder, e)
            raise
        steps.close()
        self.shared.end(lab, folder)

    def close(self) -> None:
        self.shared.close(Progress())


class Session:
    """Faults injected and healed one at a time on an open lab, each phase judged."""

    def __init__(self, steps: "Steps", folder: Path) -> None:
        self._steps, self.folder = steps, folder

    def fail(self, scenario: str, target: str | None = None) -> "Judged":
        """Inject `scenario` on `target` (default: the scenario's own); its judged inject
        phase, once the model's window has passed."""
        chosen = load_scenario(scenario)
        found = self._steps.fail(chosen, target or chosen.default_target(self._steps.lab.spec))
        return self._steps.judge(found, "inject")

    def heal(self) -> "Judged | None":
        """Undo the injected fault; its judged heal phase (None: the scenario heals by itself)."""
        healed, _, found = self._steps.heal()
        return self._steps.judge(found, "heal") if healed.heal is not None else None

    def status(self) -> str:
        """VIP holders, VRRP states, IPVS tables and HTTP answers, as `--check` prints them."""
        from labs.lab import converge, status  # pyroute2: only on a running lab

        return status.text(self._steps.lab.spec, converge.take(self._steps.lab))

    def result(self) -> Result:
        """The session so far, analysed: every step's phases and verdict, and its timeline."""
        return Result(self.folder, analyze.analyze(self.folder))


def _why(folder: Path) -> str:
    status = folder / "status.json"
    if status.exists():
        return str(json.loads(status.read_text()).get("error", "bring-up failed"))
    return f"see {folder / 'error.txt'}" if (folder / "error.txt").exists() else f"see {folder}"


@contextlib.contextmanager
def open_lab(topology: str = "dual_master", *, variant: str = "default", servers: int | None = None,
             settings: Mapping[str, str] | None = None, results_root: Path = results.DEFAULT_ROOT,
             probe: ProbeSettings = ProbeSettings(), kernel_choice: str = "auto") -> Iterator[OpenLab]:
    """A lab (a topology or a lab file's path; its variant, servers and settings as labs.run
    takes them) brought up on first use and torn down when the block ends."""
    plan = RunPlan(choose_lab(topology, variant, servers, settings), results_root.absolute(), probe=probe,
                   kernel=kernel_choice, argv=tuple(sys.argv))
    results.check_writable(plan.results)
    requirements.check()
    where = kernel.dispatch_here(plan.kernel, plan.spec.needs_ipvs)
    lab = OpenLab(plan, *where)
    try:
        yield lab
    finally:
        lab.close()
