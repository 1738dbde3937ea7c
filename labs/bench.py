"""`python -m labs.bench`: measure the lab and print a table (results/bench/<time>.json).

Benchmarks, not tests: they print numbers for docs/benchmarks.md's maintainers.
- bring-up: `--check` N times on each kernel backend this machine can run; converged-after
  against the VRRP start-up floor (the servers' tier, then the directors', each waiting its
  master's master-down interval);
- precision: `stop_keepalived --repeat N` (side by side, as labs.run schedules it); the
  measured failover against the model's skew time, and the probe's lateness;
- rps: wrk from the client host, straight to one nginx and through an LVS VIP;
- scale: the `scale` topology with N real servers: bring-up and rr evenness per N;
- reader: a 5 MB keepalived.conf (one line of braces, as a fuzzer would write, and a
  config of 20,000 ordinary instances) read by labs.kaconfig and by `keepalived -t`;
- suite: the default scenario set twice, a fresh lab per run one at a time (--fresh
  --jobs 1, how it ran before) and as `labs.run` runs it by default (labs side by side,
  each shared by its runs): both wall times, their ratio, whether every verdict matched.
Every lab goes through `python -m labs.run` or `labs.bench_lab`, on the backend it picks.
"""
from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from labs import kaconfig
from labs.common import jsonfile

from labs.common import results
from labs.common.command import Parser, describe

from labs.spec import timing
from labs.common.errors import LabError
from labs.kernel import native, uml
from labs.analysis.suite import spread
from topologies import dual_master
from topologies import scale as scale_topology

REPO = Path(__file__).resolve().parent.parent
PARTS = ("bring_up", "precision", "rps", "scale", "reader", "suite")
DEFAULT_PARTS = PARTS[:-1]  # the suite part takes ~15 min under UML: asked for with --only or --full


# The lines of a lab command's output that say where it is: its timestamped progress and
# each run's start (labs.lab.session.Progress, labs.run), with or without a job's prefix.
PROGRESS = re.compile(r"^(\[job \d+\] )?(\[\s*\d+\.\d+s\]|=== )")


def _command(cmd: list[str]) -> tuple[int, str]:
    """Run a lab command, showing its progress lines as they come (a bench step is minutes
    of labs: its user sees where it is); its exit status and its whole output."""
    print(f"  {' '.join(cmd[1:])}", flush=True)
    t = time.monotonic()
    p = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.stdout is not None
    out = []
    for line in p.stdout:
        out.append(line)
        if PROGRESS.match(line):
            print(f"    {line.rstrip()}", flush=True)
    code = p.wait()
    print(f"  exit {code} after {time.monotonic() - t:.0f} s", flush=True)
    return code, "".join(out)


def _run(args: list[str], folder: Path, module: str = "labs.run") -> tuple[float, Path]:
    t = time.monotonic()
    cmd = [sys.executable, "-m", module, *args, "--results", str(folder)]
    code, out = _command(cmd)
    if code != 0:
        print(out[-2500:], flush=True)
        raise LabError(f"`{' '.join(cmd[2:])}` failed (exit {code}); its run folder is under {folder}")
    return time.monotonic() - t, folder


def _latest(folder: Path, name: str) -> dict[str, Any]:
    return json.loads(((folder / "latest").resolve() / name).read_text())


def backends() -> tuple[list[str], dict[str, str]]:
    """Backends to measure bring-up on, and why the others cannot run here."""
    usable, missing = [], {}
    for name, problem in (("native", native.problem()), ("uml", uml.problem())):
        if problem:
            missing[name] = problem
        else:
            usable.append(name)
    return usable, missing


def bring_up(n: int, backend: str, scratch: Path) -> dict[str, Any]:
    floor = timing.bring_up_floor(dual_master.spec())
    converged, walls = [], []
    for i in range(n):
        wall, folder = _run(["dual_master", "--check", "--kernel", backend], scratch / f"check-{backend}{i}")
        converged.append(_latest(folder, "status.json")["converged_after_s"])
        walls.append(wall)
    return {"backend": backend, "runs": n, "vrrp_floor_s": round(floor, 3),
            "converged_after_s": spread(converged), "ratio_median": round(statistics.median(converged) / floor, 2),
            "check_wall_s": spread(walls)}


def stop_keepalived_model() -> float:
    """The model's failover for stop_keepalived on lvs1: the backup's skew time."""
    spec = dual_master.spec()
    (inst,) = [i for i in spec.director_instances if i.master == "lvs1"]
    backup = max((p for h, p in inst.priorities if h != "lvs1"))
    return timing.skew_time(backup, spec.timers.advert_int, spec.timers.vrrp_version)


def _moved_s(summary: dict[str, Any]) -> float:
    """The measured failover of a stop_keepalived run (its inject phase's move)."""
    return next(e for e in summary["phases"][0]["expectations"] if e["kind"] == "move")["measured_s"]


def precision(n: int, scratch: Path) -> dict[str, Any]:
    """stop_keepalived N times as `labs.run` schedules them (side by side under UML): the
    failover against the model, and how late the probe's sends were (p99 of each run)."""
    _, folder = _run(["dual_master", "--scenario", "stop_keepalived", "--repeat", str(n)], scratch / "precision")
    (suite_json,) = folder.glob("*-suite/suite.json") if n > 1 else [None]
    # the suite names its runs: two runs started in the same second get "-2" folder names
    names = json.loads(suite_json.read_text())["runs"] if suite_json else [(folder / "latest").resolve().name]
    measured, late = [], []
    for path in (folder / name / "summary.json" for name in names):
        summary = json.loads(path.read_text())
        measured.append(_moved_s(summary))
        late.append(summary["probe"]["late_p99_s"])
    jobs = json.loads(suite_json.read_text())["jobs"] if suite_json else 1
    model = stop_keepalived_model()
    return {"runs": len(measured), "jobs": jobs, "model_s": round(model, 4), "measured_s": spread(measured),
            "error_median_ms": round((statistics.median(measured) - model) * 1000, 1),
            "error_max_ms": round((max(measured) - model) * 1000, 1), "probe_late_p99_ms_max": round(max(late) * 1000, 1)}


def rps(seconds: float, scratch: Path) -> dict[str, Any]:
    _, folder = _run(["rps", "dual_master", "--seconds", f"{seconds:g}"], scratch / "rps", "labs.bench_lab")
    return _latest(folder, "bench.json")


def scale(counts: list[int], seconds: float, scratch: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for k, n in enumerate(counts, 1):
        print(f" scale [{k}/{len(counts)}]: {n} real servers", flush=True)
        try:
            out.append(_scale_one(n, seconds, scratch))
        except LabError as e:
            out.append({"servers": n, "error": str(e)})
        print(f" scale N={n}: {scale_row(out[-1])}", flush=True)
    return out


def _scale_one(n: int, seconds: float, scratch: Path) -> dict[str, Any]:
    wall, folder = _run(["spread", "scale", "--servers", str(n), "--seconds", f"{seconds:g}"],
                        scratch / f"scale{n}", "labs.bench_lab")
    report, info = _latest(folder, "bench.json"), _latest(folder, "run.json")
    worst = min(report["evenness"].values(), key=lambda e: e["min_over_max"])
    return {"servers": n, "converged_after_s": info["converged_after_s"],
            "vrrp_floor_s": round(timing.bring_up_floor(scale_topology.spec(servers=n)), 3),
            "wall_s": round(wall, 1), "requests": sum(sum(c.values()) for c in report["counts"].values()),
            "worst_min_over_max": worst["min_over_max"], "worst_cv": worst["cv"]}


def suite(scratch: Path) -> dict[str, Any]:
    """The default set with a lab per run, then on one shared lab: wall times, verdicts,
    and what labs side by side could degrade: the worst run's probe lateness (p99) and
    stop_keepalived's failover against the model."""
    out: dict[str, Any] = {}
    for mode, extra in (("fresh", ["--fresh", "--jobs", "1"]), ("shared", [])):
        t = time.monotonic()
        cmd = [sys.executable, "-m", "labs.run", "dual_master", *extra, "--results", str(scratch / f"suite-{mode}")]
        code, _ = _command(cmd)
        (report,) = [json.loads(f.read_text()) for f in (scratch / f"suite-{mode}").glob("*-suite/suite.json")]
        out[mode] = {"wall_s": round(time.monotonic() - t, 1), "exit": code, "labs_built": report["labs_built"],
                     "jobs": report["jobs"],
                     "verdicts": dict(zip([r.split("-dual_master-")[-1] for r in report["runs"]], report["verdicts"]))}
        summaries = {r.split("-dual_master-")[-1]: json.loads((scratch / f"suite-{mode}" / r / "summary.json").read_text())
                     for r in report["runs"]}
        out[mode]["probe_late_p99_ms_max"] = round(max(s["probe"]["late_p99_s"] for s in summaries.values()) * 1000, 1)
        if "stop_keepalived" in summaries:
            out[mode]["stop_keepalived_error_ms"] = round((_moved_s(summaries["stop_keepalived"])
                                                           - stop_keepalived_model()) * 1000, 1)
    out["fresh_over_shared"] = round(out["fresh"]["wall_s"] / out["shared"]["wall_s"], 2)
    out["verdicts_match"] = out["fresh"]["verdicts"] == out["shared"]["verdicts"]
    return out


def reader(runs: int, scratch: Path) -> dict[str, Any]:
    """How long labs.kaconfig takes on a 5 MB config against keepalived -t on the same file
    (the reader must stay linear: at most twice keepalived's time), median of `runs`."""
    from labs.daemons import keepalived  # jinja2 (the daemon classes render configs): only for this part

    instance = ("vrrp_instance VI_{n} {{\n    interface eth0\n    virtual_router_id {vrid}\n    priority 100\n"
                "    advert_int 1\n    virtual_ipaddress {{\n        10.{a}.{b}.1/24\n    }}\n}}\n")
    texts = {"braces": "{" * 5_000_000 + "\n",
             "instances": "".join(instance.format(n=n, vrid=n % 255 + 1, a=n // 250 % 250, b=n % 250)
                                  for n in range(30_000))[:5_000_000].rsplit("vrrp_instance", 1)[0]}
    out: dict[str, Any] = {}
    for name, text in texts.items():
        conf = scratch / f"reader-{name}.conf"
        conf.write_text(text)
        ours, theirs = [], []
        for _ in range(runs):
            t = time.monotonic()
            kaconfig.read(conf)
            ours.append(time.monotonic() - t)
            t = time.monotonic()
            keepalived.config_test(conf)
            theirs.append(time.monotonic() - t)
        out[name] = {"bytes": len(text), "reader_s": round(statistics.median(ours), 2),
                     "keepalived_t_s": round(statistics.median(theirs), 2),
                     "ratio": round(statistics.median(ours) / statistics.median(theirs), 2)}
        conf.unlink()
    return out


def main(argv: list[str] | None = None, prog: str = "python -m labs.bench") -> int:
    p = Parser(prog=prog, description=describe(__doc__))
    p.add_argument("--runs", type=int, default=3, help="repeats per measurement (default 3)")
    p.add_argument("--only", default=",".join(DEFAULT_PARTS), help=f"comma-separated subset of {','.join(PARTS)} "
                   f"(default: {','.join(DEFAULT_PARTS)})")
    p.add_argument("--servers", default="2,4,8,16,32", help="scale: real-server counts (default 2,4,8,16,32)")
    p.add_argument("--seconds", type=float, default=10.0, help="rps and scale: length of each measurement (default 10)")
    p.add_argument("--full", action="store_true", help="also the suite part (the default set twice, ~15 min under UML)")
    p.add_argument("--results", type=Path, default=results.DEFAULT_ROOT, metavar="DIR",
                   help=f"its folder goes under DIR/bench/ (default: {results.DEFAULT_ROOT}, in the working directory)")
    args = p.parse_args(argv)
    parts = [x.strip() for x in args.only.split(",")]
    if args.runs < 1 or args.seconds <= 0:
        p.error("--runs must be 1 or more and --seconds positive")
    if set(parts) - set(PARTS):
        p.error(f"--only {args.only}: choose from {','.join(PARTS)}")
    try:
        counts = [int(n) for n in args.servers.split(",")]
    except ValueError:
        p.error(f"--servers {args.servers}: give even numbers like 2,4,8")
    try:  # before the first measurement: a bench that cannot write its report is lost work
        results.check_writable(args.results)
    except LabError as e:
        p.error(str(e))
    usable, missing = backends()
    report: dict[str, Any] = {"machine": machine(), "backends_missing": missing}
    folder = args.results.absolute() / "bench" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder.mkdir(parents=True)
    path = folder / "bench.json"
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("bring_up", lambda: [bring_up(args.runs, b, folder) for b in usable]),
        ("precision", lambda: precision(args.runs, folder)),
        ("rps", lambda: rps(args.seconds, folder)),
        ("scale", lambda: scale(counts, args.seconds, folder)),
        ("reader", lambda: reader(args.runs, folder)),
        ("suite", lambda: suite(folder)),
    ]
    chosen = [(name, measure) for name, measure in steps if name in parts or (name == "suite" and args.full)]
    started = time.monotonic()
    for k, (name, measure) in enumerate(chosen, 1):
        print(f"[{k}/{len(chosen)}] {name} ({time.monotonic() - started:.0f} s so far):", flush=True)
        try:
            report[name] = measure()
        except LabError as e:  # keep what the other parts measured
            report[name] = {"error": str(e)}
        jsonfile.write(path, report)  # after each part: nothing measured is lost
        results.finish(folder, latest=False)
    print(table(report))
    print(f"written: {path}")
    return 0


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    return f"{os.cpu_count()} CPU ({cpu}), Linux {platform.release()}"


def scale_row(sc: dict[str, Any]) -> str:
    """One N of the scale part, as the table and its progress line show it."""
    if "error" in sc:
        return f"FAILED: {sc['error']}"
    return (f"{sc['converged_after_s']:.1f} / {sc['vrrp_floor_s']:.1f} / {sc['worst_min_over_max']} / "
            f"{sc['worst_cv']} ({sc['requests']} requests)")


def table(report: dict[str, Any]) -> str:
    """docs/benchmarks.md's table: one row per figure; a part that failed is one row saying so."""
    rows: list[tuple[str, object]] = [("machine", report["machine"])]
    rows += [(f"{b} backend", f"not measured: {why}") for b, why in report["backends_missing"].items()]
    rows += [(f"{name}: FAILED", part["error"]) for name, part in report.items()
             if isinstance(part, dict) and "error" in part]
    bring = report.get("bring_up")
    for b in bring if isinstance(bring, list) else []:
        k = b["backend"]
        rows += [(f"{k}: bring-up to converged, median (s)", round(b["converged_after_s"]["median"], 2)),
                 (f"{k}: VRRP start-up floor, both tiers (s)", b["vrrp_floor_s"]),
                 (f"{k}: ratio to the floor", b["ratio_median"]),
                 (f"{k}: --check wall time, median (s)", round(b["check_wall_s"]["median"], 1))]
    pr = report.get("precision", {})
    if "model_s" in pr:
        rows += [(f"stop_keepalived failover, median of {pr['runs']} on {pr['jobs']} lab(s) side by side (s)",
                  pr["measured_s"]["median"]),
                 ("model (skew time) (s)", pr["model_s"]),
                 ("failover after the model, median / max (ms)", f"{pr['error_median_ms']} / {pr['error_max_ms']}"),
                 ("probe sends behind their slot, worst run's p99 (ms)", pr["probe_late_p99_ms_max"])]
    r = report.get("rps", {})
    if "median_rps" in r:
        rows += [("requests/s straight to one nginx, median", round(r["median_rps"]["direct"])),
                 ("requests/s through the LVS VIP (IPVS DR), median", round(r["median_rps"]["vip"])),
                 ("VIP / direct", r["vip_over_direct"])]
    scaled = report.get("scale")
    for sc in scaled if isinstance(scaled, list) else []:
        rows.append((f"scale N={sc['servers']}: converged (s) / floor / rr min/max share / cv", scale_row(sc)))
    rd = report.get("reader", {})
    for name, r in rd.items() if "error" not in rd else ():
        rows.append((f"reader: 5 MB config ({name}), labs.kaconfig / keepalived -t (s) / ratio",
                     f"{r['reader_s']} / {r['keepalived_t_s']} / {r['ratio']}"))
    su = report.get("suite", {})
    if "fresh_over_shared" in su:
        for mode, how in (("fresh", "--fresh --jobs 1 (a lab per run, one at a time)"),
                          ("shared", f"default ({su['shared'].get('jobs', 1)} jobs, each sharing its lab)")):
            verdicts = list(su[mode]["verdicts"].values())
            rows.append((f"default set, {how}: wall time (s) / labs built / passed",
                         f"{su[mode]['wall_s']} / {su[mode]['labs_built']} / {verdicts.count('pass')} of {len(verdicts)}"))
        rows += [("default set: probe sends behind their slot, worst run's p99, fresh / default (ms)",
                  f"{su['fresh'].get('probe_late_p99_ms_max', '-')} / {su['shared'].get('probe_late_p99_ms_max', '-')}"),
                 ("default set: stop_keepalived failover after the model, fresh / default (ms)",
                  f"{su['fresh'].get('stop_keepalived_error_ms', '-')} / {su['shared'].get('stop_keepalived_error_ms', '-')}"),
                 ("default set: fresh / default", su["fresh_over_shared"]),
                 ("default set: every verdict the same both ways", su["verdicts_match"])]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


if __name__ == "__main__":
    sys.exit(main())
