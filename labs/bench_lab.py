"""`python -m labs.bench_lab`: one benchmark measured inside a running lab (labs.bench drives it).

- rps: requests per second from the client host with wrk, straight to one nginx (Server1's
  own address) and through an LVS VIP (IPVS DR onto the same tier), alternating, same run;
  wrk reuses its connections (nginx keeps them alive), so this is requests, not connections;
- spread: the HTTP probe against both VIPs for a while; requests per real server, per VIP.
Each writes bench.json into its run folder; the lab is brought up and torn down as by labs.run.
"""
from __future__ import annotations

import argparse
import csv
import functools
import re
import shutil
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from labs import kernel

from labs.common import jsonfile

from labs.common import requirements

from labs.common import results
from labs.common.command import Parser, describe, guarded, lab_arguments, lab_of
from labs.plan.runplan import ProbeSettings, RunPlan
from labs.lab.session import Progress, with_lab
from labs.common.errors import LabError
from labs.probes.http import RATE

if TYPE_CHECKING:
    from labs.lab.lab import Lab

PROG = "python -m labs.bench_lab"
WRK_CONNECTIONS = 16
ROUNDS = 3  # direct and VIP alternate, so a slow moment of the machine hits both


def parse_wrk(text: str) -> dict[str, float]:
    """Requests/sec and the error counts from wrk's summary."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not rate:
        raise LabError(f"wrk printed no Requests/sec; it said: {text.strip()[-300:]}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return {"rps": float(rate.group(1)), "socket_errors": errors, "non_2xx": int(non2xx.group(1)) if non2xx else 0}


def rps_body(seconds: float, lab: "Lab", folder: Path, say: Progress) -> bool:
    client = lab.node(lab.spec.client.name)
    targets = {"direct": lab.spec.real_servers[0].ip, "vip": lab.spec.lvs_vips[-1]}
    rounds: dict[str, list[dict[str, float]]] = {k: [] for k in targets}
    for n in range(ROUNDS):
        for name, address in targets.items():
            say(f"wrk round {n + 1}/{ROUNDS}: {name} ({address}), {seconds:g} s, {WRK_CONNECTIONS} connections")
            out = client.cmd(f"wrk -t1 -c{WRK_CONNECTIONS} -d{seconds:g}s http://{address}/")
            rounds[name].append(parse_wrk(out))
    median = {k: statistics.median(r["rps"] for r in v) for k, v in rounds.items()}
    report = {"targets": targets, "seconds": seconds, "connections": WRK_CONNECTIONS, "rounds": rounds,
              "median_rps": median, "vip_over_direct": round(median["vip"] / median["direct"], 3)}
    jsonfile.write(folder / "bench.json", report)
    return all(r["socket_errors"] == 0 and r["non_2xx"] == 0 for v in rounds.values() for r in v)


def answers_per_server(probes: Path) -> dict[str, dict[str, int]]:
    """Answered requests per VIP per real server, from a probes.csv."""
    counts: dict[str, Counter[str]] = {}
    with open(probes, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["status"] == "200":
                counts.setdefault(row["vip"], Counter())[row["server"]] += 1
    return {vip: dict(sorted(c.items())) for vip, c in sorted(counts.items())}


def evenness(counts: dict[str, int], servers: list[str]) -> dict[str, float]:
    """min/max share (1.0 = perfectly even) and the coefficient of variation, absent servers as 0."""
    values = [counts.get(s, 0) for s in servers]
    mean = statistics.mean(values)
    return {"min_over_max": round(min(values) / max(values), 3) if max(values) else 0.0,
            "cv": round(statistics.pstdev(values) / mean, 3) if mean else 0.0}


def spread_body(seconds: float, rate: float, lab: "Lab", folder: Path, say: Progress) -> bool:
    from labs.lab.experiment import ProbeProcess  # Mininet and pyroute2: only once a lab is built

    probe = ProbeProcess(lab, ProbeSettings(rate=rate), folder)
    say(f"probing both VIPs at {rate:g}/s for {seconds:g} s")
    probe.start(seconds + 60)
    time.sleep(seconds)
    probe.stop()
    servers = [h.name for h in lab.spec.real_servers]
    counts = answers_per_server(folder / "probes.csv")
    report = {"servers": len(servers), "seconds": seconds, "rate": rate,
              "lb_algo": {vs.vip: vs.lb_algo for vs in lab.spec.virtual_servers}, "counts": counts,
              "evenness": {vip: evenness(c, servers) for vip, c in counts.items()}}
    jsonfile.write(folder / "bench.json", report)
    return bool(counts)


def parse(argv: list[str]) -> argparse.Namespace:
    p = Parser(prog=PROG, description=describe(__doc__))
    p.add_argument("what", choices=("rps", "spread"))
    p.add_argument("topology")
    lab_arguments(p)
    p.add_argument("--seconds", type=float, default=5.0, help="length of each measurement (default 5)")
    p.add_argument("--rate", type=float, default=RATE, help="spread: probe requests per second per VIP")
    p.add_argument("--kernel", choices=kernel.CHOICES, default="auto")
    p.add_argument("--results", type=Path, default=results.DEFAULT_ROOT)
    args = p.parse_args(argv)
    args.results = args.results.absolute()  # daemons get config paths from it, from other folders
    if args.seconds <= 0 or args.rate <= 0:
        p.error("--seconds and --rate must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)

    def go() -> int:
        # a bad topology, variant or --servers: one line, before anything runs
        plan = RunPlan(lab_of(args), args.results, kernel=args.kernel, argv=tuple(argv))
        requirements.check("labs.bench_lab")
        results.check_writable(args.results)
        if args.what == "rps" and not shutil.which("wrk"):
            raise LabError("wrk is missing (sudo apt-get install wrk, or run ./setup.sh)")
        where = kernel.dispatch("labs.bench_lab", argv, args.kernel, args.results)
        if isinstance(where, int):
            return where
        body = (functools.partial(rps_body, args.seconds) if args.what == "rps"
                else functools.partial(spread_body, args.seconds, args.rate))
        ok, folder = with_lab(plan, *where, f"bench-{args.what}", body)
        print(f"bench: {folder / 'bench.json'}", flush=True)
        return 0 if ok else 1

    return guarded(PROG, go, args.results)


if __name__ == "__main__":
    sys.exit(main())
