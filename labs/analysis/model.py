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
(~0.5 s under UML), for paths that restart keepalived.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from labs import kaconf

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
        scale = self.advert_int if self.version == 3 else 1.0
        return (256 - self.priorities[host]) / 256 * scale

    def master_down(self, host: str) -> float:
        return 3 * self.advert_int + self.skew(host)


@dataclass(frozen=True)
class Window:
    earliest: float
    latest: float
    basis: str

    def holds(self, value: float) -> bool:
        return self.earliest <= value <= self.latest


@dataclass
class Model:
    instances: dict[str, Instance]  # keyed by VIP
    script_interval: float
    restart_wait: float
    process_start: float
    keepalived_start: float

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

    def preempt(self, inst: Instance, started: str, spawns: int = 0) -> Window:
        """keepalived (re)started on the configured master (after `spawns` other process
        starts): it starts in BACKUP, ignores the lower-priority adverts and takes over
        after its own master-down interval."""
        mdi = inst.master_down(started)
        return Window(mdi, mdi + self.keepalived_start + self.tolerance(spawns),
                      f"preemption: master-down interval of {started} 3x{inst.advert_int:g}+skew = {mdi:.3f} s")


def _num(block: kaconf.Block, key: str, default: float) -> float:
    found = block.all(key)
    return float(found[0].args[0]) if found else default


def load(results: Path, info: dict[str, float]) -> Model:
    """Read every host's keepalived.conf (and check script) under results/configs/."""
    instances: dict[str, dict] = {}
    interval, restart_wait = 0.0, 0.0
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
        for script in root.all("vrrp_script"):
            interval = max(interval, _num(script, "interval", 1.0))
        check = conf.parent / "check_nginx.sh"
        if check.exists():
            m = re.search(r"^sleep\s+([\d.]+)", check.read_text(), re.M)
            restart_wait = max(restart_wait, float(m.group(1)) if m else 0.0)
    return Model(
        {vip: Instance(e["name"], vip, e["priorities"], e["advert_int"], e["version"]) for vip, e in instances.items()},
        interval, restart_wait, info.get("process_start_s", 0.0), info.get("keepalived_start_s", 0.0),
    )


@dataclass(frozen=True)
class Expectation:
    """What the model says one VIP does after a fault (or its healing)."""

    phase: str  # "inject" | "heal"
    instance: str
    vip: str
    from_host: str
    to_host: str
    window: Window
