"""A suite: the scenario runs a command plans, run on this kernel one after the other, and
their report (the table, suite.json, the spread over repeats, JUnit XML). `labs.run` runs a
suite here; `labs.lab.jobs` splits one over labs side by side and reports it here too."""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from labs import analyze
from labs.analysis import suite as tables
from labs.analysis import summary as flat_summary
from labs.common import jsonfile

from labs.report import junit

from labs.common import results

from labs.plan import scenario
from labs.common.errors import LabError
from labs.plan.runplan import RunPlan
from labs.lab.session import Progress, SharedLab, with_lab

if TYPE_CHECKING:
    from labs.lab.lab import Lab
    from labs.spec import LabSpec

DEFAULT_SCENARIOS = ("kill_nginx", "nginx_down", "stop_keepalived", "crash_keepalived", "link_down", "blackhole",
                     "link_flap", "split_brain", "real_server_down", "persistence")
# Beyond the article's design: run by name (`--scenario multicast_blocked --variant unicast`).
EXTRA_SCENARIOS = ("multicast_blocked", "lossy_link", "director_failover")

# A job prints this before a run folder it has finished (analysed, logs kept); the line is
# not shown: it tells the command that started the job to draw that run's plots.
FINISHED = "@@halab-run-finished@@ "


def choose_runs(spec: "LabSpec", names: Sequence[str] | None, target: str | None) -> tuple[tuple[str, str], ...]:
    """(scenario, target) pairs to run on the lab `spec`, checked before anything is built:
    the scenarios named (default: DEFAULT_SCENARIOS, skipping those this lab has no target
    for), each on `target` or its own default."""
    out = []
    for found in (scenario.load(n.strip()) for n in (names or DEFAULT_SCENARIOS)):  # one line for what a file lacks
        choices = found.targets(spec)
        if not choices and not names:  # a default scenario this lab has nothing for
            print(f"{found.source}: skipped, lab {spec.name} has no host it can target", file=sys.stderr, flush=True)
            continue
        chosen = target or found.default_target(spec)
        if chosen not in choices:
            raise LabError(f"scenario {found.source} cannot target {chosen!r}; choose one of {', '.join(choices)} (--target)")
        out.append((found.source, chosen))  # a file's absolute path, so the analysis finds it again
    return tuple(out)


def run_one(on_a_lab: Callable[..., tuple[bool, Path]], plan: RunPlan, name: str, target: str) -> tuple[bool, Path]:
    """One scenario run in a lab session (SharedLab.run, or with_lab for a fresh lab): its
    folder named after the scenario, run.json saying what ran and at what probe rate."""
    from labs.lab import experiment  # Mininet: --list and --help work without it

    loaded = scenario.load(name)

    def body(lab: "Lab", folder: Path, say: Progress) -> bool:
        experiment.run(lab, loaded, target, plan.probe, say)
        return True

    return on_a_lab(Path(name).stem, body, scenario=name, target=target,
                    probe={"rate": plan.probe.rate, "timeout": plan.probe.timeout})


def run_here(plan: RunPlan, backend: str, reason: str) -> int:
    """Each planned run on this kernel, one after the other: on one shared lab (rebuilt
    only when a run leaves it unhealthy) or, with `fresh`, a lab per run. A job of
    `--jobs N` writes its part for the command that started it; else the suite's report."""
    # matplotlib (plot), pyroute2 (resources): --list and --help work without them
    from labs import plot
    from labs.lab import resources

    accounting = resources.Accounting()
    summaries, folders, usage = [], [], []
    runs = plan.expanded
    shared = None if plan.fresh else SharedLab(plan, backend, reason)
    on_a_lab = shared.run if shared else functools.partial(with_lab, plan, backend, reason)
    try:
        for n, (name, target) in enumerate(runs, 1):
            print(f"=== [{n}/{len(runs)}] {name} on {target}", flush=True)
            ran, folder = run_one(on_a_lab, plan, name, target)
            folders.append(folder)
            if ran:
                summary = analyze.analyze(folder)
                print(flat_summary.table(summary), flush=True)
                if plan.part:  # a job's plots are drawn by the command that started it, now (labs.lab.jobs)
                    print(f"{FINISHED}{folder}", flush=True)
                else:
                    print(f"report: {plot.draw(folder)[-1]}", flush=True)
            else:
                why = "the scenario raised (error.txt)" if (folder / "error.txt").exists() else "bring-up failed"
                summary = {"scenario": name, "target": target, "verdict": "fail", "reason": why, "phases": []}
            summaries.append(summary)
            usage.append(accounting.usage().to_json())  # after analysis and plots: they are part of a run
    finally:
        if shared:
            shared.close(Progress())
    labs_built = shared.labs_built if shared else len(runs)
    if shared:
        print(f"{labs_built} lab(s) built for {len(runs)} run(s)", flush=True)
    if plan.part:  # one of --jobs N: the command that started it reports the suite
        plan.part.write_text(json.dumps({"runs": [f.name for f in folders], "usage": usage, "labs_built": labs_built}))
        return flat_summary.exit_status([s["verdict"] for s in summaries])
    return report(plan, folders, summaries, usage, labs_built)


def report(plan: RunPlan, folders: list[Path], summaries: list[dict], usage: list[dict], labs_built: int,
           n_jobs: int = 1) -> int:
    """The summary of several runs (table, suite.json, spread over repeats); the exit status."""
    from labs import plot  # matplotlib: --list and --help work without it
    from labs.lab import resources  # pyroute2: --list and --help work without it

    total = len(summaries)
    passed = sum(s["verdict"] == "pass" for s in summaries)
    disturbed = sum(s["verdict"] == "disturbed" for s in summaries)
    if total > 1:
        print(f"\n=== summary of {total} runs", flush=True)
        print(tables.table(summaries), flush=True)
        doc = {"runs": [f.name for f in folders], "verdicts": [s["verdict"] for s in summaries],
               "repeat": plan.repeat, "labs": "fresh" if plan.fresh else "shared", "jobs": n_jobs,
               "labs_built": labs_built, "resources_after_each_run": usage}
        print(resources.table(usage), flush=True)
        if plan.repeat > 1:
            doc["spread"] = tables.repeat_stats(summaries)
            print(f"\n=== spread over {plan.repeat} repeats", flush=True)
            print(tables.repeat_table(doc["spread"]), flush=True)
        suite_folder = results.new_folder(plan.results, plan.spec.name, "suite")
        jsonfile.write(suite_folder / "suite.json", doc)
        flat_summary.write_csv(suite_folder / "expectations.csv",
                               [row for f, s in zip(folders, summaries) for row in flat_summary.flat(s, f.name)])
        if plan.repeat > 1:
            plot.draw_suite(suite_folder)
        results.finish(suite_folder, latest=False)
        print(f"suite: {suite_folder}", flush=True)
    if plan.junit_xml:
        junit.write(plan.junit_xml, plan.spec.name, folders, summaries)
        print(f"JUnit XML: {plan.junit_xml}", flush=True)
    print(f"{passed} of {total} scenario run(s) passed" + (
        f"; {disturbed} disturbed: their timing figures cannot be trusted (the probe ran late or sent too few"
        " requests: see each run's `measurement`), run them again on a quieter host" if disturbed else ""), flush=True)
    return flat_summary.exit_status([s["verdict"] for s in summaries])
