"""`--jobs N`: the planned runs split over N labs side by side, each job a `labs.run` of
its own in its own User-mode Linux kernel, then one summary as if a single command had run
them. Natively the labs would share one kernel's namespace names and the lab's lock, so
jobs need User-mode Linux."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import IO, TYPE_CHECKING, Sequence

from labs import kernel
from labs.analysis import model
from labs.analyze import analyze
from labs.common import results
from labs.lab.paths import RunPaths
from labs.plan import phases, scenario

from labs.lab import suite
from labs.common.errors import LabError
from labs.plan.runplan import RunPlan

if TYPE_CHECKING:
    from labs.spec import LabSpec

OPTIONS_WITH_VALUES = ("--scenario", "--target", "--repeat", "--jobs", "--part", "--cpu", "--kernel", "--junit-xml")


AUTO_MAX = 4  # labs side by side by default: each User-mode Linux kernel takes up to 1 GiB
# Labs per host CPU by default, each kernel pinned to its CPU (labs.kernel.uml.host_cpu).
# Measured on 2 vCPUs (docs/benchmarks.md, "Where the time went"): four pinned labs, two per CPU, kept
# the probe's worst p99 lateness at 15 ms (unpinned, three labs already reached 34-40 ms).
LABS_PER_CPU = 2


def host_cpus() -> list[int]:
    """The host CPUs this process may use (its affinity: a container or taskset may allow
    fewer than the machine has)."""
    return sorted(os.sched_getaffinity(0))


def cpu_of(job: int) -> int:
    """The host CPU job number `job` (from 0) runs its kernel on: the CPUs in turn, so
    labs side by side share them evenly."""
    cpus = host_cpus()
    return cpus[job % len(cpus)]


def count(plan: RunPlan) -> int:
    """How many labs side by side for the plan's runs: --jobs as given; by default
    LABS_PER_CPU per CPU (at most AUTO_MAX) when the runs go to User-mode Linux, 1 natively
    (one kernel, one lab)."""
    runs = len(plan.expanded)
    if plan.part:  # one of the jobs: its runs go one after the other on its own lab
        return 1
    if plan.jobs is not None:
        return min(plan.jobs, runs) if runs else 1
    if runs < 2 or kernel.choose(plan.kernel, plan.spec.needs_ipvs).backend != "uml":
        return 1
    return max(1, min(LABS_PER_CPU * len(host_cpus()), AUTO_MAX, runs))


def split(runs: list[tuple[str, str]], jobs: int, seconds: list[float],
          repins: list[bool] | None = None) -> list[list[tuple[str, str]]]:
    """Runs dealt to jobs so that the suite ends when its longest job does, as early as the
    runs allow: those that may leave clients pinned to one real server (`repins`) first,
    one per job as far as they go, each to be its job's last run (after it the lab would be
    rebuilt); then the rest longest first, each to the job with the least planned time.
    Within a job the runs keep the order given, the pinning ones at the end."""
    repins = repins or [False] * len(runs)
    groups: list[list[int]] = [[] for _ in range(min(jobs, len(runs)))]
    load = [0.0] * len(groups)
    pinned = [0] * len(groups)
    for n in sorted(range(len(runs)), key=lambda n: (not repins[n], -seconds[n])):
        k = min(range(len(groups)), key=lambda k: (pinned[k], load[k]) if repins[n] else (load[k],))
        groups[k].append(n)
        load[k] += seconds[n]
        pinned[k] += repins[n]
    return [[runs[n] for n in sorted(group, key=lambda n: (repins[n], n))] for group in groups]


def timings(spec: "LabSpec", runs: list[tuple[str, str]]) -> tuple[list[float], list[bool]]:
    """Each run's length and whether it may leave clients pinned, from the model of the
    configs the lab will render."""
    from labs import daemons  # jinja2 (the daemons' templates): run --help works without it

    with tempfile.TemporaryDirectory(prefix="halab-plan-") as tmp:
        paths = RunPaths(Path(tmp) / "run", Path(tmp) / "runtime")
        daemons.render(spec, paths)
        m = model.load(paths.results, {})
        loaded = [(scenario.load(name), target) for name, target in runs]
        return ([phases.planned_seconds(s, m, t) for s, t in loaded],
                [phases.may_repin_clients(s, m, t) for s, t in loaded])


def job_argv(argv: list[str], group: list[tuple[str, str]], part: Path, cpu: int) -> list[str]:
    """The user's command line for one job: its own runs, one each, on User-mode Linux on
    host CPU `cpu`."""
    out, skip = [], False
    for word in argv:
        if skip:
            skip = False
            continue
        name = word.split("=", 1)[0]
        if name in OPTIONS_WITH_VALUES:
            skip = "=" not in word
            continue
        out.append(word)
    out += ["--scenario", ",".join(name for name, _ in group), "--kernel", "uml", "--jobs", "1", "--part", str(part),
            "--cpu", str(cpu)]
    return out


def job_env(argv: Sequence[str]) -> dict[str, str]:
    """A job's environment: this one, with the command the user typed, which the job's
    run.json records instead of its own internal command line (--part, --cpu)."""
    return {**os.environ, results.COMMAND_ENV: json.dumps(results.typed_command(list(argv)))}


def _idle() -> None:
    """A drawing process runs only on CPU time nothing else wants (SCHED_IDLE): the labs
    side by side keep theirs, so plots drawn while they run delay no probe."""
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


class Drawings:
    """Every run's plots and report.html, drawn here on the host as each job finishes a
    run, by idle-priority processes (under User-mode Linux they took ~2.5 s of a job's one
    CPU per run, time the next run waited for; drawn after the jobs, the user waited)."""

    def __init__(self) -> None:
        # costly standard library (the process pool and multiprocessing): only with --jobs
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(max_workers=min(len(host_cpus()), AUTO_MAX),
                                        mp_context=multiprocessing.get_context("spawn"), initializer=_idle)
        self.pending: dict[Path, Future[list[Path]]] = {}
        self.lock = threading.Lock()

    def submit(self, folder: Path) -> None:
        from labs import plot  # matplotlib: run --list and --help work without it

        with self.lock:
            if folder not in self.pending:
                self.pending[folder] = self.pool.submit(plot.draw, folder)

    def finish(self, folders: list[Path]) -> None:
        """Draw what was not yet, wait for all, hand the files to the user, say where."""
        for folder in folders:
            self.submit(folder)
        for folder in folders:
            made = self.pending[folder].result()
            results.finish(folder, latest=False)  # hand the files to the invoking user
            print(f"report: {made[-1]}", flush=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _relay(stream: IO[str], prefix: str, drawings: Drawings) -> None:
    for line in stream:
        if line.startswith(suite.FINISHED):
            drawings.submit(Path(line[len(suite.FINISHED):].strip()))
        else:
            print(f"{prefix}{line}", end="", flush=True)


def run(plan: RunPlan) -> int:
    """Start the jobs, relay their output line by line (each prefixed with its job), then
    report the whole suite from their run folders; each run's plots are drawn as it ends."""
    if kernel.choose(plan.kernel, plan.spec.needs_ipvs).backend != "uml":
        raise LabError("--jobs needs User-mode Linux (each job its own kernel; natively the labs would share one "
                       "kernel's namespace names): add --kernel uml, or drop --jobs")
    n = count(plan)
    if n > 1:
        print(f"{n} jobs, each in its own User-mode Linux kernel (--jobs 1: one after the other)", flush=True)
    drawings = Drawings()
    try:
        return _run_jobs(plan, n, drawings)
    finally:
        drawings.close()


def _run_jobs(plan: RunPlan, n: int, drawings: Drawings) -> int:
    expanded = plan.expanded
    with tempfile.TemporaryDirectory(prefix="halab-jobs-") as tmp:
        parts = [Path(tmp) / f"job{k}.json" for k in range(n)]
        procs, relays = [], []
        for k, (group, part) in enumerate(zip(split(expanded, n, *timings(plan.spec, expanded)), parts), 1):
            # a run scheduled with --target keeps it; the scenarios' own defaults need none
            cmd = [sys.executable, "-m", "labs.run", *job_argv(list(plan.argv), group, part, cpu_of(k - 1))]
            if plan.target:
                cmd += ["--target", plan.target]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=job_env(plan.argv))
            prefix = f"[job {k}] " if n > 1 else ""
            relay = threading.Thread(target=_relay, args=(proc.stdout, prefix, drawings), daemon=True)
            relay.start()
            procs.append(proc)
            relays.append(relay)
        try:
            for proc in procs:
                proc.wait()
        except BaseException:  # Ctrl-C or SIGTERM: every job tears its lab down before we go
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait()
            raise
        finally:
            for relay in relays:
                relay.join(timeout=5)
        done = [json.loads(p.read_text()) for p in parts if p.exists()]
    if len(done) < len(procs):
        raise LabError(f"{len(procs) - len(done)} of {len(procs)} jobs ended without a report; see their output above")
    folders = [plan.results / name for part in done for name in part["runs"]]
    summaries = [json.loads((f / "summary.json").read_text()) if (f / "summary.json").exists() else analyze(f)
                 for f in folders]
    drawings.finish([f for f in folders if (f / "summary.json").exists()])
    usage = [u for part in done for u in part["usage"]]
    return suite.report(plan, folders, summaries, usage, sum(p["labs_built"] for p in done), n_jobs=len(procs))
