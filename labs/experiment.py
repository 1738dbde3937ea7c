"""One scenario on a converged lab: probes on, baseline, fault, observe, heal, recover.

How long to observe comes from the model's windows (computed from the rendered configs,
labs.plan), so slower timers are observed longer; the lab must be converged again after
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
from types import ModuleType

from labs.analysis import model
from labs.analysis import expectations as expected
from labs.errors import LabError
from labs.lab import converge
from labs.lab.lab import Lab
from labs.plan import AFTER, baseline_seconds, phase_seconds
from labs.probes import connections as connection_probe
from labs.probes import http as http_probe
from labs.timing import convergence_bound

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ProbeSettings:
    rate: float = http_probe.RATE  # requests per second per VIP
    timeout: float = http_probe.TIMEOUT  # seconds per request


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

    def __init__(self, lab: Lab, scenario: ModuleType, folder: Path) -> None:
        self.lab, self.folder = lab, folder
        self.count = int(getattr(scenario, "CONNECTIONS", 0))
        self.interval = float(getattr(scenario, "CONNECTION_INTERVAL", connection_probe.INTERVAL))
        self.open_over = float(getattr(scenario, "OPEN_OVER_S", 0.0))
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


def act(scenario: ModuleType, action: str, lab: Lab, target: str, probe: ProbeProcess | None) -> None:
    """Carry out a scenario's `inject` or `heal`; one that declares NEEDS_PROBE (it changes
    the probe, e.g. its client addresses) is handed the running probe."""
    function = getattr(scenario, action)
    if getattr(scenario, "NEEDS_PROBE", False):
        if probe is None:
            raise LabError(f"{scenario.__name__.split('.')[-1]} changes the probe: start the probe first")
        function(lab, target, probe)
    else:
        function(lab, target)


def _sleep_until(deadline: float) -> None:
    time.sleep(max(0.0, deadline - time.monotonic()))


def run(lab: Lab, scenario: ModuleType, target: str, settings: ProbeSettings, say) -> None:
    """Drive one scenario; everything it measures lands in the folder the lab records
    into now (its own, or the current scenario's on a shared lab: Lab.follow)."""
    folder = lab.recording
    m = model.load(folder, json.loads((folder / "run.json").read_text()))
    expectations = model.for_scenario(scenario, m, target)
    expected.write(folder, expectations)
    inject_s, heal_s = phase_seconds(scenario, expectations)
    bound = convergence_bound(lab.spec)
    probe = ProbeProcess(lab, settings, folder)
    baseline = baseline_seconds(scenario)
    probe.start(baseline + inject_s + heal_s + bound + AFTER + 60)
    connections = ConnectionProbeProcess(lab, scenario, folder) if getattr(scenario, "CONNECTIONS", 0) else None
    try:
        if connections is not None:
            connections.start(baseline + inject_s + heal_s + bound + AFTER + 60)
            say(f"{connections.count} keep-alive connections per VIP, opened over {connections.open_over:g} s, "
                f"a request on each every {connections.interval:g} s")
        say(f"probes running ({settings.rate:g}/s per VIP); baseline {baseline:g} s")
        time.sleep(baseline)
        say(f"inject: {scenario.__name__.split('.')[-1]} on {target}; observing {inject_s:.1f} s")
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
        say(f"probe: {json.loads(stats.read_text())}")
