"""One scenario on a converged lab: probes on, baseline, fault, observe, heal, recover.

How long to observe comes from the model's windows (computed from the rendered configs,
labs.plan.phases), so slower timers are observed longer; the lab must be converged again after
healing.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from labs.analysis import model
from labs.analyze import analyze
from labs.analysis import expectations as expected
from labs.common.errors import LabError
from labs.lab import converge
from labs.lab.lab import Lab
from labs.plan.phases import AFTER, SETTLE, baseline_seconds, phase_seconds
from labs.plan.runplan import ProbeSettings
from labs.plan.scenario import Scenario
from labs.spec.timing import convergence_bound

REPO = Path(__file__).resolve().parents[2]
PROBE_MAX_S = 3600.0  # a session's probe left running stops by itself after an hour


class ProbeProcess:
    """The HTTP probe (labs.probes.http) running as one process inside the client host."""

    def __init__(self, lab: Lab, settings: ProbeSettings, folder: Path) -> None:
        self.lab, self.settings, self.folder = lab, settings, folder
        self.proc: subprocess.Popen[bytes] | None = None
        self.max_seconds = 0.0

    def start(self, max_seconds: float, sources: tuple[str, ...] | None = None) -> None:
        """Start probing from `sources` (default: every client address); rows are appended."""
        self.max_seconds = max_seconds
        client = self.lab.spec.client
        argv = [sys.executable, "-m", "labs.probes.http", "--rate", str(self.settings.rate),
                "--timeout", str(self.settings.timeout), "--duration", f"{max_seconds:.0f}",
                "--out", str(self.folder / "probes.csv"), "--stats", str(self.folder / "probe-stats.json")]
        for vip in self.lab.spec.client_vips:
            argv += ["--vip", vip]
        sources = sources or client.source_ips
        for source in sources:
            argv += ["--source", source]
        csv = self.folder / "probes.csv"
        rows_before = csv.read_text().count("\n") if csv.exists() else 1
        with open(self.folder / "logs" / "probe.log", "ab") as log:
            self.proc = self.lab.node(client.name).popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # python starts slowly under UML
            if csv.exists() and csv.read_text().count("\n") > rows_before:
                # The analysis counts a request only for the sources in force when it was
                # scheduled: a restarted probe's last requests are not the new phase's.
                assert self.lab.events is not None
                self.lab.events.record("probe", action="start", sources=list(sources), rate=self.settings.rate)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise LabError(f"the HTTP probe did not start; see {self.folder / 'logs' / 'probe.log'}")

    def restart(self, sources: tuple[str, ...]) -> None:
        """Probe from other client addresses from now on (scenarios about distribution)."""
        self.stop()
        self.start(self.max_seconds, sources)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=self.settings.timeout + 10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ConnectionProbeProcess:
    """The connection probe (labs.probes.connections) in the client host, for a scenario
    that declares CONNECTIONS (per LVS VIP); its settings are the scenario's
    CONNECTION_INTERVAL and OPEN_OVER_S. Rows go to connections.csv."""

    def __init__(self, lab: Lab, scenario: Scenario, folder: Path) -> None:
        self.lab, self.folder = lab, folder
        self.count = scenario.connections
        self.interval = scenario.connection_interval
        self.open_over = scenario.open_over_s
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, max_seconds: float) -> None:
        client = self.lab.spec.client
        csv = self.folder / "connections.csv"
        argv = [sys.executable, "-m", "labs.probes.connections", "--connections", str(self.count),
                "--interval", str(self.interval), "--open-over", str(self.open_over),
                "--duration", f"{max_seconds:.0f}", "--out", str(csv),
                "--stats", str(self.folder / "connections-stats.json")]
        for vip in self.lab.spec.lvs_vips:
            argv += ["--vip", vip]
        for source in client.source_ips:
            argv += ["--source", source]
        with open(self.folder / "logs" / "connections-probe.log", "ab") as log:
            self.proc = self.lab.node(client.name).popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # its first row: the first connection is open
            if csv.exists() and csv.read_text().count("\n") > 1:
                assert self.lab.events is not None
                self.lab.events.record("connections_probe", action="start", per_vip=self.count,
                                       interval=self.interval, open_over=self.open_over)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise LabError(f"the connection probe did not start; see {self.folder / 'logs' / 'connections-probe.log'}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)  # a request in flight gets its answer or its timeout
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def act(scenario: Scenario, action: Literal["inject", "heal"], lab: Lab, target: str, probe: ProbeProcess | None) -> None:
    """Carry out a scenario's `inject` or `heal`; one that declares NEEDS_PROBE (it changes
    the probe, e.g. its client addresses) is handed the running probe."""
    function = scenario.inject if action == "inject" else scenario.heal
    assert function is not None  # the callers heal only what has a heal
    if scenario.needs_probe:
        if probe is None:
            raise LabError(f"{scenario.name} changes the probe: start the probe first")
        function(lab, target, probe)
    else:
        function(lab, target)


def _sleep_until(deadline: float) -> None:
    time.sleep(max(0.0, deadline - time.monotonic()))


def expect_now(lab: Lab, scenario: Scenario, target: str, step: int | None = None) -> list[expected.Expectation]:
    """The model's expectations for `scenario` on `target`, from the configs the lab runs,
    written into the folder it records into (expectations.json) for the analysis to judge
    — before anything is injected, so the analysis never depends on the scenario module."""
    folder = lab.recording
    m = model.load(folder, json.loads((folder / "run.json").read_text()))
    found = model.for_scenario(scenario, m, target)
    expected.write(folder, found, step=step)
    return found


def run(lab: Lab, scenario: Scenario, target: str, settings: ProbeSettings, say) -> None:
    """Drive one scenario; everything it measures lands in the folder the lab records
    into now (its own, or the current scenario's on a shared lab: Lab.follow)."""
    folder = lab.recording
    expectations = expect_now(lab, scenario, target)
    inject_s, heal_s = phase_seconds(scenario, expectations)
    bound = convergence_bound(lab.spec)
    probe = ProbeProcess(lab, settings, folder)
    baseline = baseline_seconds(scenario)
    probe.start(baseline + inject_s + heal_s + bound + AFTER + 60)
    connections = ConnectionProbeProcess(lab, scenario, folder) if scenario.connections else None
    try:
        if connections is not None:
            connections.start(baseline + inject_s + heal_s + bound + AFTER + 60)
            say(f"{connections.count} keep-alive connections per VIP, opened over {connections.open_over:g} s, "
                f"a request on each every {connections.interval:g} s")
        say(f"probes running ({settings.rate:g}/s per VIP); baseline {baseline:g} s")
        time.sleep(baseline)
        say(f"inject: {scenario.name} on {target}; observing {inject_s:.1f} s")
        t = time.monotonic()
        act(scenario, "inject", lab, target, probe)
        _sleep_until(t + inject_s)
        t = time.monotonic()
        if scenario.heal is not None:
            say(f"heal; observing {heal_s:.1f} s, then waiting for the lab to converge again")
            act(scenario, "heal", lab, target, probe)
            _sleep_until(t + heal_s)
        else:
            say("nothing to heal; waiting for the lab to converge again")
        converge.wait(lab, t, bound, with_http=False, settled=True)  # a nopreempt VIP stays where it went
        time.sleep(AFTER)
    finally:
        probe.stop()
        if connections is not None:
            connections.stop()
        assert lab.events is not None
        lab.events.record("end", detail="observation over; teardown follows")
    stats = folder / "probe-stats.json"
    if stats.exists():
        say(f"probe: { {k: v for k, v in json.loads(stats.read_text()).items() if k != 'schema_version'} }")


@dataclass(frozen=True)
class Judged:
    """One judged phase of a step: its expectations as summary.json has them."""

    phase: str
    expectations: tuple[dict[str, Any], ...]

    @property
    def failures(self) -> list[str]:
        return [e["reason"] for e in self.expectations if e["verdict"] == "fail"]

    @property
    def verdict(self) -> str:
        return "fail" if self.failures else "pass"


class Steps:
    """A session on a running lab: faults injected and healed one step at a time, each
    phase judged once the model's window for it has passed, the whole session one folder
    (the interactive lab's `fail`/`heal`, and the Python API's)."""

    def __init__(self, lab: Lab, settings: ProbeSettings, probe: bool = True) -> None:
        self.lab, self.settings = lab, settings
        self.probe: ProbeProcess | None = None
        self.active: tuple[Scenario, str, list[expected.Expectation]] | None = None
        self.count = 0
        if probe:
            self.start_probe()

    def start_probe(self) -> None:
        if self.probe is None:
            self.probe = ProbeProcess(self.lab, self.settings, self.lab.recording)
            self.probe.start(PROBE_MAX_S)

    def stop_probe(self) -> None:
        if self.probe is not None:
            self.probe.stop()
            self.probe = None

    def fail(self, scenario: Scenario, target: str) -> list[expected.Expectation]:
        """Inject `scenario` on `target` (one line for what cannot be); its expectations."""
        choices = scenario.targets(self.lab.spec)
        if target not in choices:
            raise LabError(f"{scenario.name} cannot target {target!r}; choose one of {', '.join(choices)}")
        if self.active:
            raise LabError(f"{self.active[0].name} is still injected; `heal` first")
        if scenario.needs_probe and self.probe is None:
            raise LabError("this scenario changes the probe: `probe start` first")
        self.count += 1
        assert self.lab.events is not None
        self.lab.events.record("step", n=self.count, scenario=scenario.name, target=target)
        found = expect_now(self.lab, scenario, target, step=self.count)
        act(scenario, "inject", self.lab, target, self.probe)
        self.active = (scenario, target, found)
        return found

    def heal(self) -> tuple[Scenario, str, list[expected.Expectation]]:
        """Undo the injected fault; its scenario, target and expectations (nothing to judge
        if the scenario has no heal)."""
        if not self.active:
            raise LabError("nothing to heal")
        scenario, target, found = self.active
        if scenario.heal is not None:
            act(scenario, "heal", self.lab, target, self.probe)
        self.active = None
        return scenario, target, found

    @staticmethod
    def wait_for(found: list[expected.Expectation], phase: str) -> float:
        """How long after the action its phase is judged: the model's latest time + SETTLE."""
        return max((e.observe_until for e in found if e.phase == phase), default=0.0) + SETTLE

    def judge(self, found: list[expected.Expectation], phase: str) -> Judged:
        """Wait out the model's window for `phase`, then judge it from the session's files."""
        time.sleep(self.wait_for(found, phase))
        summary = analyze(self.lab.recording)
        judged = [p for p in summary["phases"] if p["phase"] == phase][-1]
        return Judged(phase, tuple(judged["expectations"]))

    def close(self) -> None:
        """Heal what is still injected (the lab must come back whole) and stop the probe."""
        try:
            if self.active:
                self.heal()
        finally:
            self.stop_probe()
