"""Hand-made results folders with known answers: real rendered configs, invented events
and probe rows."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterable

import labs.plan.scenario
from labs.analysis import expectations, model
from labs.daemons.keepalived import Keepalived
from labs.lab.paths import RunPaths
from labs.probes.http import FIELDS
from topologies import dual_master

T0 = 1000.0  # the fault
RATE = 10.0  # probe rate per VIP in these fixtures


def folder(tmp: Path, scenario: str, target: str, variant: str = "default", **info: object) -> Path:
    results = tmp / "run"
    spec = dual_master.spec(variant)
    paths = RunPaths(results, tmp / "runtime")
    for host in (*spec.directors, *spec.real_servers):
        Keepalived(spec, host, paths).render()
    run = {"scenario": scenario, "target": target, "kernel_backend": "native", "probe": {"rate": RATE},
           "process_start_s": 0.001, "keepalived_start_s": 0.5, **info}
    (results / "run.json").write_text(json.dumps(run))
    # as labs.lab.experiment does when the run starts
    expectations.write(results, model.for_scenario(labs.plan.scenario.load(scenario), model.load(results, run), target))
    return results


def events(results: Path, rows: Iterable[dict]) -> None:
    (results / "events.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def converged(t: float = T0 - 20) -> list[dict]:
    """Address events of a lab that converged as configured at time t."""
    spec = dual_master.spec()
    return [{"t": t, "kind": "addr", "host": i.master, "action": "add", "address": i.vip, "ifname": "enp0s8"}
            for i in (*spec.director_instances, *spec.server_instances)]


def addr(t: float, host: str, action: str, vip: str) -> dict:
    return {"t": T0 + t, "kind": "addr", "host": host, "action": action, "address": vip, "ifname": "enp0s8"}


def fault(t: float, action: str) -> dict:
    return {"t": T0 + t, "kind": "fault", "action": action, "detail": "fixture"}


def probes(results: Path, start: float, end: float, outcome, late: float = 0.0) -> None:
    """Requests on both LVS VIPs at RATE from 9 sources; outcome(vip, source, t) gives
    (server, status, error) for a request scheduled at fault-relative time t, sent `late`
    seconds after its slot."""
    spec = dual_master.spec()
    sources = spec.client.source_ips
    with open(results / "probes.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FIELDS)
        n = 0
        t = start
        while t < end:
            for vip in spec.lvs_vips:
                source = sources[n % len(sources)]
                server, status, error = outcome(vip, source, t)
                w.writerow((T0 + t, T0 + t + late, T0 + t + late + 0.005, vip, source, server, status or "", error))
            n += 1
            t = start + n / RATE


def healthy(vip: str, source: str, t: float):
    return ("server1" if source.endswith((".1", "1", "3", "5", "7")) else "server2"), 200, ""


VIP1 = "192.168.56.131"


def restarted(t: float, host: str) -> dict:
    """The first notification of a restarted keepalived (it starts in BACKUP)."""
    return {"t": T0 + t, "kind": "vrrp", "host": host, "instance": "VI_1", "state": "BACKUP", "priority": 100}


def graceful_lvs1(vip_up: float, heal_up: float | None = 3.9):
    rows = [*converged(), fault(0, "inject"), addr(0.01, "lvs1", "del", VIP1), addr(vip_up, "lvs2", "add", VIP1),
            fault(10, "heal"), restarted(10.2, "lvs1")]
    if heal_up is not None:
        rows += [addr(10 + heal_up, "lvs1", "add", VIP1), addr(10 + heal_up, "lvs2", "del", VIP1)]
    return rows


def outage_until(end: float):
    def outcome(vip, source, t):
        if vip == VIP1 and 0 <= t < end:
            return "", None, "timeout"
        return healthy(vip, source, t)
    return outcome
