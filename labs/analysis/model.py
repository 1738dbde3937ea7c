"""The timing model, computed from the rendered configuration files of a run.

The analysis reads `configs/<host>/keepalived.conf` (and the check script's wait) back,
so its expectations describe the files keepalived actually ran, not the data they came
from. Each window is [earliest, latest]: the protocol's own delay, plus a tolerance.

Tolerance = LATENCY + what the path must start. LATENCY (0.25 s) covers signal delivery,
keepalived's event loop, the netlink/FIFO reader waking up and the probe's grid (DESIGN.md
§2 measured UML's VRRP timing accurate to ~0.15 s). Starting things is measured in the run
itself (run.json): `process_start_s`, the median cost of starting a process in a lab host
(~1 ms natively, ~0.05 s under UML for a small one), times the processes a path starts
(the check script runs ~10: sh, cat, grep, nginx, sleep, ...); and `keepalived_start_s`,
the longest time any keepalived took at bring-up from exec to its first VRRP notification
(~0.5 s under UML), reported for reference: a path that restarts keepalived is timed
from the restarted daemon's own first notification instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from labs import kaconf, timing

LATENCY = 0.25


@dataclass(frozen=True)
class Instance:
    name: str
    vip: str
    priorities: dict[str, int]
    advert_int: float
    version: int

    @property
    def master(self) -> str:
        return max(self.priorities, key=self.priorities.__getitem__)

    def best_other(self, without: str) -> str:
        others = {h: p for h, p in self.priorities.items() if h != without}
        return max(others, key=others.__getitem__)

    def skew(self, host: str) -> float:
        return timing.skew_time(self.priorities[host], self.advert_int, self.version)

    def master_down(self, host: str) -> float:
        return timing.master_down_interval(self.priorities[host], self.advert_int, self.version)


@dataclass(frozen=True)
class Window:
    earliest: float
    latest: float
    basis: str

    def holds(self, value: float) -> bool:
        return self.earliest <= value <= self.latest

    def widened(self, seconds: float) -> "Window":
        """The same window for a fault that took `seconds` to apply: its effect began
        somewhere in that span after the recorded time."""
        if not seconds:
            return self
        return Window(self.earliest, self.latest + seconds, f"{self.basis}; +{seconds:.3f} s to apply the fault")


@dataclass
class Model:
    instances: dict[str, Instance]  # keyed by VIP
    script_interval: float
    restart_wait: float
    process_start: float
    keepalived_start: float
    directors: tuple[str, ...] = ()
    checker: dict[str, float] | None = None
    script_weight: int = 0
    script_fall: int = 1
    script_stops_keepalived: bool = False
    persistence: dict[str, float] | None = None  # LVS VIP -> persistence_timeout (0: off)

    def tolerance(self, spawns: int) -> float:
        return LATENCY + spawns * self.process_start

    def instances_mastered_by(self, host: str) -> list[Instance]:
        return [i for i in self.instances.values() if i.master == host]

    def graceful(self, inst: Instance, stopped: str, spawns: int = 1) -> tuple[str, Window]:
        """keepalived stopped on the master: a priority-0 advert, then the best backup
        takes over after its skew time."""
        to = inst.best_other(stopped)
        skew = inst.skew(to)
        return to, Window(skew, skew + self.tolerance(spawns),
                          f"graceful stop: skew time of {to} (256-{inst.priorities[to]})/256 = {skew:.3f} s")

    def silent(self, inst: Instance, lost: str, spawns: int = 0) -> tuple[str, Window]:
        """The master vanished without a priority-0 advert (crash, link loss, adverts
        blocked): the best backup takes over a master-down interval after the last advert
        it heard, which came up to one advert interval before the fault."""
        to = inst.best_other(lost)
        mdi = inst.master_down(to)
        return to, Window(mdi - inst.advert_int, mdi + self.tolerance(spawns),
                          f"silent loss: master-down interval of {to} 3x{inst.advert_int:g}+skew = {mdi:.3f} s "
                          f"after its last advert (0-{inst.advert_int:g} s before the fault)")

    def preempt(self, inst: Instance, started: str) -> Window:
        """keepalived on the configured master is back (restarted, or its link restored):
        it starts in BACKUP, ignores the lower-priority adverts and takes over after its
        own master-down interval. For a restart the window counts from the restarted
        daemon's first VRRP notification (see Move.after_restart_of)."""
        mdi = inst.master_down(started)
        return Window(mdi, mdi + self.tolerance(0),
                      f"preemption: master-down interval of {started} 3x{inst.advert_int:g}+skew = {mdi:.3f} s")

    def yields(self, inst: Instance, spawns: int = 0) -> Window:
        """Two masters hear each other again (after the healing's `spawns` process starts):
        the lower priority yields on the first advert it hears."""
        return Window(0.0, inst.advert_int + self.tolerance(spawns),
                      f"adverts heard again: the lower priority yields within one advert interval ({inst.advert_int:g} s)")

    def checker_down(self) -> Window:
        """A real server that silently stops answering: the next check starts within
        delay_loop; it and its retries each wait connect_timeout, with delay_before_retry
        between them, before the checker removes it."""
        c = self.checker
        detect = (c["retry"] + 1) * c["connect_timeout"] + c["retry"] * c["delay_before_retry"]
        return Window(detect, c["delay_loop"] + detect + self.tolerance(0),
                      f"TCP_CHECK: within delay_loop {c['delay_loop']:g} s, then {c['retry'] + 1} connects of "
                      f"{c['connect_timeout']:g} s with {c['delay_before_retry']:g} s between = {detect:g} s")

    def checker_up(self) -> Window:
        """A removed real server answering again is re-added by the next check, which
        starts within delay_loop (one that was waiting on a dropped connect first times out)."""
        c = self.checker
        return Window(0.0, c["delay_loop"] + c["connect_timeout"] + self.tolerance(0),
                      f"TCP_CHECK: next check within delay_loop {c['delay_loop']:g} s (+ connect_timeout {c['connect_timeout']:g} s)")


def _num(block: kaconf.Block, key: str, default: float) -> float:
    found = block.all(key)
    return float(found[0].args[0]) if found else default


def load(results: Path, info: dict[str, float]) -> Model:
    """Read every host's keepalived.conf (and check script) under results/configs/."""
    instances: dict[str, dict] = {}
    interval, restart_wait, weight, fall, stops = 0.0, 0.0, 0, 1, False
    directors: list[str] = []
    checker: dict[str, float] = {}
    persistence: dict[str, float] = {}
    for conf in sorted((results / "configs").glob("*/keepalived.conf")):
        host = conf.parent.name
        root = kaconf.parse(conf.read_text())
        gd = root.all("global_defs")
        version = int(_num(gd[0], "vrrp_version", 2)) if gd else 2
        for inst in root.all("vrrp_instance"):
            vip = inst.one("virtual_ipaddress").children[0].keyword.split("/")[0]
            entry = instances.setdefault(vip, {"name": inst.args[0], "priorities": {},
                                               "advert_int": _num(inst, "advert_int", 1.0), "version": version})
            entry["priorities"][host] = int(inst.value("priority"))
        for vs in root.all("virtual_server"):
            if host not in directors:
                directors.append(host)
            persistence[vs.args[0]] = _num(vs, "persistence_timeout", 0.0)
            for rs in vs.all("real_server"):
                tcp = rs.one("TCP_CHECK")
                checker = {"delay_loop": _num(vs, "delay_loop", 60.0), "connect_timeout": _num(tcp, "connect_timeout", 5.0),
                           "retry": int(_num(tcp, "retry", 1)), "delay_before_retry": _num(tcp, "delay_before_retry", 1.0)}
        for script in root.all("vrrp_script"):
            interval = max(interval, _num(script, "interval", 1.0))
            weight, fall = int(_num(script, "weight", 0)), int(_num(script, "fall", 1))
        check = conf.parent / "check_nginx.sh"
        if check.exists():
            text = check.read_text()
            m = re.search(r"^sleep\s+([\d.]+)", text, re.M)
            restart_wait = max(restart_wait, float(m.group(1)) if m else 0.0)
            stops = bool(re.search(r"^kill -TERM", text, re.M))
    return Model(
        {vip: Instance(e["name"], vip, e["priorities"], e["advert_int"], e["version"]) for vip, e in instances.items()},
        interval, restart_wait, info.get("process_start_s", 0.0), info.get("keepalived_start_s", 0.0),
        tuple(directors), checker or None, weight, fall, stops, persistence,
    )


@dataclass(frozen=True)
class Move:
    """A VIP moves from one host to another within the window. With `after_restart_of`,
    the window counts from that host's restarted keepalived's first VRRP notification:
    how long a daemon takes to start is measured, not guessed."""

    phase: str  # "inject" | "heal"
    instance: str
    vip: str
    from_host: str
    to_host: str
    window: Window
    after_restart_of: str = ""


@dataclass(frozen=True)
class Release:
    """A host that held a VIP it should not (a duplicate) gives it up within the window."""

    phase: str
    instance: str
    vip: str
    host: str
    window: Window


@dataclass(frozen=True)
class Stay:
    """A VIP stays on its host for the whole phase."""

    phase: str
    instance: str
    vip: str
    host: str


@dataclass(frozen=True)
class Moves:
    """A VIP arrives on `to_host` exactly `count` times during the phase (flapping)."""

    phase: str
    vip: str
    to_host: str
    count: int


@dataclass(frozen=True)
class Checker:
    """Every director's checker marks a real server DOWN (or UP) within the window."""

    phase: str
    real_server: str
    state: str
    directors: tuple[str, ...]
    window: Window


@dataclass(frozen=True)
class ClientBlip:
    """Client failures on the LVS VIPs, if any, end within the window after the fault."""

    phase: str
    window: Window


@dataclass(frozen=True)
class Share:
    """The busiest real server's share of a VIP's answers during the phase."""

    phase: str
    vip: str
    window: Window


Expectation = Move | Release | Stay | Moves | Checker | ClientBlip | Share
