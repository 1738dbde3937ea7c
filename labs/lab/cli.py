"""The interactive lab: Mininet's CLI (so `lvs1 ipvsadm -Ln` and `client curl -s
192.168.56.131` work as Mininet users expect) plus the lab's own commands.

A workshop session tells its story: the client probe runs from the start, each `fail
SCENARIO [TARGET]` ... `heal` pair is judged with that scenario's expectations (control
plane and clients) once the model's window has passed, and `plot` draws the whole session.
"""
from __future__ import annotations

from pathlib import Path

from mininet.cli import CLI
from mininet.log import setLogLevel

from labs.plan import scenario

from labs.lab import status
from labs.analysis.expectations import Expectation
from labs.common.errors import LabError
from labs.lab.experiment import Steps
from labs.plan.phases import SETTLE
from labs.lab import converge
from labs.lab.lab import Lab
from labs.plan.runplan import ProbeSettings
from labs.spec import LabSpec

HELP = """lab commands (Mininet's own, e.g. `lvs1 ipvsadm -Ln`, work too):
  status                      VIP holders, VRRP states, IPVS tables, HTTP answers     e.g. status
  fail SCENARIO [TARGET]      inject a scenario's fault, judged once the model's window has passed
                                                                                      e.g. fail link_down lvs1
  heal                        undo it, judged the same way                           e.g. heal
  probe start|stop            the client's HTTP probe (on from the start)             e.g. probe stop
  plot                        timeline, distribution and report.html of the session   e.g. plot
  exit                        tear the lab down"""


def catalogue(spec: LabSpec) -> str:
    """Every scenario with the targets it takes on `spec`'s lab (its default first)."""
    lines = []
    for e in scenario.catalogue(spec):
        others = [t for t in e.targets if t != e.default]
        first = f"{e.default} (default){', ' if others else ''}" if e.default else f"none on {spec.name}"
        lines.append(f"  {e.name:17} {first}{', '.join(others)}")
    return "scenarios and their targets:\n" + "\n".join(lines)


class LabCLI(CLI):
    """`help` lists Mininet's commands and these: status, fail, heal, probe, plot."""

    def __init__(self, lab: Lab, settings: ProbeSettings, probe: bool = True, **kwargs: object) -> None:
        self.lab = lab
        setLogLevel("output")  # Mininet's CLI prints node output at this level
        assert lab.net is not None
        self.steps = Steps(lab, settings, probe=False)
        try:
            if probe:
                self.start_probe()
            self.prompt = "halab (probing)> " if self.steps.probe else "halab> "
            super().__init__(lab.net, **kwargs)  # Mininet's CLI runs its loop here
        finally:
            self.steps.stop_probe()  # what is still injected, the teardown heals

    def start_probe(self) -> None:
        self.steps.start_probe()
        print(f"probing {', '.join(self.lab.spec.client_vips)} at {self.steps.settings.rate:g}/s each from "
              f"{len(self.lab.spec.client.source_ips)} client addresses (`probe stop` to stop)", flush=True)

    def do_help(self, line: str) -> None:
        "List the lab's commands with their arguments and an example each."
        if line.strip():
            super().do_help(line)
            return
        print(HELP, flush=True)

    def do_status(self, _line: str) -> None:
        "Hosts, VRRP states, VIP holders, IPVS tables and HTTP answers (as --check prints)."
        print(status.text(self.lab.spec, converge.take(self.lab)), flush=True)

    def do_fail(self, line: str) -> None:
        "fail SCENARIO [TARGET]: inject a scenario's fault; `heal` undoes it. Both are judged."
        words = line.split()
        try:
            chosen = scenario.load(words[0]) if words else None
        except LabError:
            chosen = None
        if chosen is None:
            print(f"usage: fail SCENARIO [TARGET], e.g. fail link_down lvs1; {catalogue(self.lab.spec)}", flush=True)
            return
        try:
            target = words[1] if len(words) > 1 else chosen.default_target(self.lab.spec)
            found = self.steps.fail(chosen, target)
        except LabError as e:
            print(e, flush=True)
            return
        print(f"injected {words[0]} on {target}; `status` to look, `heal` to undo", flush=True)
        self.judge(found, "inject")

    def do_heal(self, _line: str) -> None:
        "Undo the fault injected with `fail`, judged once the model's window has passed."
        try:
            healed, target, found = self.steps.heal()
        except LabError as e:
            print(e, flush=True)
            return
        print(f"healed {healed.name} on {target}", flush=True)
        if healed.heal is not None:
            self.judge(found, "heal")

    def judge(self, found: list[Expectation], phase: str) -> None:
        """Wait out the model's window for `phase`, then print its one-line verdict."""
        print(f"judging the {phase} in {Steps.wait_for(found, phase):.1f} s (the model's latest time + {SETTLE:g} s)...",
              flush=True)
        judged = self.steps.judge(found, phase)
        if judged.failures:
            print(f"{phase}: FAIL — " + "; ".join(judged.failures), flush=True)
        else:
            print(f"{phase}: PASS — {len(judged.expectations)} expectation(s) inside the model", flush=True)

    def do_probe(self, line: str) -> None:
        "probe start|stop: HTTP probes from the client to every LVS VIP (probes.csv)."
        if line.strip() == "start":
            if self.steps.probe is not None:
                print("the probe is already running", flush=True)
                return
            self.start_probe()
        elif line.strip() == "stop":
            if self.steps.probe is None:
                print("the probe is not running", flush=True)
                return
            self.steps.stop_probe()
            print("probe stopped", flush=True)
        else:
            print("usage: probe start|stop", flush=True)
        self.prompt = "halab (probing)> " if self.steps.probe else "halab> "

    def do_plot(self, _line: str) -> None:
        "Draw the session so far: timeline, distribution and report.html in the results folder."
        from labs import plot  # matplotlib: only for `plot` (slow to import, more so under User-mode Linux)

        made: list[Path] = plot.draw(self.lab.recording, fresh=True)
        print(f"drawn: {made[0]} and {made[-1]}", flush=True)
