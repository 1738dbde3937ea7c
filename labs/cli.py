"""The interactive lab: Mininet's CLI (so `lvs1 ipvsadm -Ln` and `client curl -s
192.168.56.131` work as Mininet users expect) plus the lab's own commands."""
from __future__ import annotations

from pathlib import Path
from types import ModuleType

from mininet.cli import CLI
from mininet.log import setLogLevel

import scenarios
from labs import status
from labs.errors import LabError
from labs.experiment import ProbeProcess, ProbeSettings, act
from labs.lab import converge
from labs.lab.lab import Lab

PROBE_MAX_S = 3600.0  # a probe left running stops by itself after an hour


class LabCLI(CLI):
    """`help` lists Mininet's commands and these: status, fail, heal, probe, plot."""

    prompt = "halab> "

    def __init__(self, lab: Lab, settings: ProbeSettings, **kwargs: object) -> None:
        self.lab = lab
        self.settings = settings
        self.active: tuple[ModuleType, str] | None = None
        self.probe: ProbeProcess | None = None
        setLogLevel("output")  # Mininet's CLI prints node output at this level
        assert lab.net is not None
        try:
            super().__init__(lab.net, **kwargs)  # Mininet's CLI runs its loop here
        finally:
            self.stop_probe()

    def stop_probe(self) -> None:
        if self.probe is not None:
            self.probe.stop()
            self.probe = None

    def do_status(self, _line: str) -> None:
        "Hosts, VRRP states, VIP holders, IPVS tables and HTTP answers (as --check prints)."
        print(status.text(self.lab.spec, converge.take(self.lab)), flush=True)

    def do_fail(self, line: str) -> None:
        "fail SCENARIO [HOST]: inject a scenario's fault (see --list); `heal` undoes it."
        words = line.split()
        if not words:
            print(f"usage: fail SCENARIO [HOST]; scenarios: {', '.join(scenarios.names())}")
            return
        try:
            module = scenarios.load(words[0])
        except LabError as e:
            print(e)
            return
        target = words[1] if len(words) > 1 else module.DEFAULT_TARGET
        if target not in module.TARGETS:
            print(f"{words[0]} cannot target {target!r}; choose one of {', '.join(module.TARGETS)}")
            return
        if self.active:
            print(f"{self.active[0].__name__.split('.')[-1]} is still injected; `heal` first")
            return
        if getattr(module, "NEEDS_PROBE", False) and self.probe is None:
            print("this scenario changes the probe: `probe start` first")
            return
        act(module, "inject", self.lab, target, self.probe)
        self.active = (module, target)
        print(f"injected {words[0]} on {target}; `status` to look, `heal` to undo", flush=True)

    def do_heal(self, _line: str) -> None:
        "Undo the fault injected with `fail`."
        if not self.active:
            print("nothing to heal")
            return
        module, target = self.active
        if module.heal is not None:
            act(module, "heal", self.lab, target, self.probe)
        self.active = None
        print(f"healed {module.__name__.split('.')[-1]} on {target}", flush=True)

    def do_probe(self, line: str) -> None:
        "probe start|stop: HTTP probes from the client to every LVS VIP (probes.csv)."
        if line.strip() == "start":
            if self.probe is not None:
                print("the probe is already running")
                return
            self.probe = ProbeProcess(self.lab, self.settings, self.lab.paths.results)
            self.probe.start(PROBE_MAX_S)
            print(f"probing {', '.join(self.lab.spec.lvs_vips)} at {self.settings.rate:g}/s each", flush=True)
        elif line.strip() == "stop":
            if self.probe is None:
                print("the probe is not running")
                return
            self.stop_probe()
            print("probe stopped", flush=True)
        else:
            print("usage: probe start|stop")

    def do_plot(self, _line: str) -> None:
        "Draw the timeline of what happened so far (plots and report.html in the results folder)."
        from labs import plot

        made: list[Path] = plot.draw(self.lab.paths.results, fresh=True)
        print(f"drawn: {made[0]} and {made[-1]}", flush=True)
