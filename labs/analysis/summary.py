"""summary.json of a run: per phase (the fault, then its healing) and per VIP, what the
model expected, what the control plane did, what clients saw, and the verdict."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Sequence

from labs.common import tables
from labs.analysis import clients, expectations, measurement, model
from labs.analysis.data import Run
from labs.analysis.expectations import Expectation, Phase
from labs.plan import scenario


def phases(run: Run) -> list[tuple[str, float, float, dict[str, Any], int | None]]:
    """(phase, start, end, fault event, step) for each injected fault and healing; `step`
    is the interactive session's fail/heal pair it belongs to (None in a scenario run)."""
    faults = run.of_kind("fault")
    steps = run.of_kind("step")
    # Observation ends when the runner says so; teardown's events come after and are not the fault's.
    ends = run.of_kind("end")
    end = ends[0]["t"] if ends else max([r.finish_t for r in run.requests] + [e["t"] for e in run.events], default=0.0)
    out = []
    for i, f in enumerate(faults):
        stop = faults[i + 1]["t"] if i + 1 < len(faults) else end
        step = max((s["n"] for s in steps if s["t"] <= f["t"]), default=None)
        out.append((f["action"], f["t"], stop, f, step))
    return out


def expected_by(run: Run) -> Sequence[tuple[int | None, Expectation]]:
    """What the run expected: expectations.json, written when it ran. A folder from before
    that file existed is given its scenario's expectations now (the only path that imports
    the scenario modules, and through them the lab's own dependencies)."""
    path = run.folder / expectations.FILE
    if path.exists():
        return expectations.from_json(expectations.read(path))
    name = run.info.get("scenario")
    if not name:
        return []
    m = model.load(run.folder, run.info)
    return [(None, e) for e in model.for_scenario(scenario.load(name), m, run.info.get("target"))]


def duration(run: Run) -> float | None:
    """Seconds from the run's start (run.json `started`) to the end of its observation (the
    `end` event; teardown follows it), for JUnit's `time`; None when a file lacks either."""
    ends = run.of_kind("end") or run.events[-1:]
    started = run.info.get("started")
    return round(ends[-1]["t"] - started, 3) if ends and started is not None else None


def summarize(run: Run) -> dict[str, Any]:
    info = run.info
    name, target = info.get("scenario"), info.get("target")
    expected = expected_by(run)
    vips = sorted({r.vip for r in run.requests})
    result: dict[str, Any] = {"run_id": info.get("run_id") or run.folder.resolve().name, "duration_s": duration(run),
                              "scenario": name, "target": target, "kernel_backend": info.get("kernel_backend"),
                              "process_start_s": info.get("process_start_s"),
                              "keepalived_start_s": info.get("keepalived_start_s"), "phases": []}
    bounds = phases(run)
    steps = run.of_kind("step")
    if steps:  # an interactive session: what was done, in order
        result["steps"] = [{k: s[k] for k in ("n", "scenario", "target")} for s in steps]
    for phase, t0, t1, fault, step in bounds:
        notes = [n for n in run.of_kind("fault_note") if n.get("ref_t") == t0]
        ph = Phase(run, phase, t0, t1, sum(n.get("applied_in_s", 0.0) for n in notes))
        result["phases"].append({
            "phase": phase, "t": t0, "end": t1, "detail": fault.get("detail"), "step": step,
            "probe_sources": sorted(ph.sources) if ph.sources is not None else None,
            "notes": [{k: v for k, v in n.items() if k not in ("t", "kind", "ref_t")} for n in notes],
            "expectations": [e.evaluate(ph) for s, e in expected if e.phase == phase and s == step],
            "clients": {vip: clients.view(ph.requests, run.requests, vip, t0, t1, ph.pins) for vip in vips},
            "ipvs": [{**{k: e[k] for k in ("host", "real_server", "virtual_server", "state")}, "after_s": round(e["t"] - t0, 4)}
                     for e in run.of_kind("ipvs") if t0 <= e["t"] < t1],
            "vrrp": [{**{k: e[k] for k in ("host", "instance", "state")}, "after_s": round(e["t"] - t0, 4)}
                     for e in run.of_kind("vrrp") if t0 <= e["t"] < t1],
        })
    cuts = [min((r.sched_t for r in run.requests), default=0.0)] + [b[1] for b in bounds] + [float("inf")]
    names = ["before"] + [b[0] for b in bounds]
    result["distribution"] = {
        n: clients.distribution(clients.select(run.requests, a, b, expectations.probe_sources(run, b)), a, b)
        for n, a, b in zip(names, cuts, cuts[1:])}
    result["probe"] = clients.probe_quality(run.requests, info)
    result["measurement"] = measured = measurement.judge(run.folder, run.requests, result["probe"])
    result["macs"] = {e["host"]: e["mac"] for e in run.of_kind("mac")}
    checks = [e for p in result["phases"] for e in p["expectations"]]
    disturbed = f"timing disturbed: {measured['why']}" if measured["disturbed"] else ""
    if not bounds and not name:  # an interactive session before its first `fail`
        result["verdict"], result["reason"] = "none", "nothing was judged: no fault was injected"
    elif not bounds:
        result["verdict"], result["reason"] = "fail", "no fault was recorded in events.jsonl"
    elif any(c["verdict"] == "fail" for c in checks):
        # A failure stays a failure when the timing was disturbed too: a late probe could
        # explain a client window missed by a little, never a VIP that did not move or a
        # server left out; and a regression must not hide behind a busy host. The reason
        # says the timing was disturbed, so whoever reads it can weigh a timing-only failure.
        result["verdict"] = "fail"
        result["reason"] = "; ".join([c["reason"] for c in checks if c["verdict"] == "fail"] + ([disturbed] if disturbed else []))
    elif disturbed:  # neither pass nor fail: the figures the expectations passed on cannot be trusted
        result["verdict"] = "disturbed"
        result["reason"] = f"{disturbed} — {len(checks)} expectation(s) inside the model, on figures that cannot be trusted"
    else:
        result["verdict"], result["reason"] = "pass", f"{len(checks)} expectation(s) inside the model"
    return result


# Exit status of a command that judged runs: every run passed (or judged nothing) 0, any
# failed 1, else any disturbed 3 (the figures of a run could not be trusted: run it again
# on a quieter host). 2 stays a bad input, 130/143 a signal (labs.common.command).
EXIT = {"pass": 0, "fail": 1, "disturbed": 3}  # anything else (`none`: nothing judged) 1, as before


def exit_status(verdicts: Sequence[str]) -> int:
    """0 when every verdict passed, 1 when any failed, else 3 when any was disturbed."""
    codes = {EXIT.get(v, 1) for v in verdicts}
    return 1 if 1 in codes else 3 if 3 in codes else 0


FLAT = ("run", "scenario", "target", "step", "phase", "kind", "what", "model_earliest_s", "model_latest_s", "measured_s",
        "verdict", "requests", "failed", "whole_after_s", "still_failing_at_end", "error_window_s", "failure_rate",
        "reason")


def flat(summary: dict[str, Any], run: str = "") -> list[dict[str, Any]]:
    """One row per evaluated expectation (expectations.csv: for pandas or a spreadsheet);
    a client expectation carries its VIP's client figures."""
    steps = {s["n"]: s for s in summary.get("steps", [])}
    out = []
    for p in summary.get("phases", []):
        step = steps.get(p.get("step"), summary)
        for e in p["expectations"]:
            m = e.get("model") or {}
            c = p["clients"].get(e.get("vip", "")) if expectations.described(e).client_figures else None
            ew = (c or {}).get("error_window") or {}
            out.append({"run": run, "scenario": step.get("scenario"), "target": step.get("target"), "step": p.get("step"),
                        "phase": p["phase"], "kind": e["kind"], "what": e["what"], "model_earliest_s": m.get("earliest_s"),
                        "model_latest_s": m.get("latest_s"), "measured_s": e.get("measured_s"), "verdict": e["verdict"],
                        "requests": c and c["requests"], "failed": c and c["failed"],
                        "whole_after_s": c and c["whole_after_s"], "still_failing_at_end": e.get("still_failing_at_end"),
                        "error_window_s": ew.get("span_s"), "failure_rate": ew.get("failure_rate"), "reason": e["reason"]})
    return out


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, FLAT)
        w.writeheader()
        w.writerows(rows)


def table(summary: dict[str, Any]) -> str:
    """One line per expectation and per probed VIP: model window, measured, client view, verdict."""
    return render_rows(rows(summary)) + f"\nverdict: {summary['verdict'].upper()} — {summary['reason']}"


HEADER = ["scenario", "phase", "what", "model window", "measured", "failed", "error window", "verdict"]


def client_cells(c: dict[str, Any]) -> list[str]:
    """failed/sent and the error window of one VIP's clients in one phase, in words: a
    partial outage shows as its share of failures over its span, never as a short gap."""
    if not c["failed"]:
        return [f"0/{c['requests']}", "-"]
    ew = c["error_window"]
    span = f"{ew['span_s']:.2f}s, {ew['failure_rate']:.0%} failed" + (", still failing" if c["ongoing"] else "")
    return [f"{c['failed']}/{c['requests']}", span]


def rows(summary: dict[str, Any]) -> list[list[str]]:
    """Table rows: each expectation; a client expectation carries its own VIP's counts."""
    steps = {s["n"]: f"{s['scenario']}@{s['target']}" for s in summary.get("steps", [])}
    out = []
    for p in summary["phases"]:
        name = steps.get(p.get("step"), f"{summary['scenario']}@{summary['target']}")
        for e in p["expectations"]:
            window, measured = expectations.cells(e)
            shown = expectations.described(e).client_figures and e["vip"] in p["clients"]
            client = client_cells(p["clients"][e["vip"]]) if shown else ["", ""]
            out.append([name, p["phase"], e["what"], window, measured, *client, e["verdict"]])
    timing = timing_row(summary)
    return out + ([[f"{summary['scenario']}@{summary['target']}", *timing]] if timing else [])


def timing_row(summary: dict[str, Any]) -> list[str] | None:
    """A disturbed run's row after its expectations (phase onwards): the probe's timing
    against its bounds, verdict `disturbed`; None when the timing was not disturbed."""
    m = summary.get("measurement") or {}
    if not m.get("disturbed"):
        return None
    bound = f"p99 late <= {m['late_bound_s'] * 1000:.0f} ms, sent >= {m['sent_bound']:.0%}"
    late = f"p99 late {m['late_p99_s'] * 1000:.0f} ms" if m.get("late_p99_s") is not None else "p99 late -"
    sent = f"sent {m['sent']}/{m['asked']}" if m.get("asked") else "sent -"
    return ["-", "probe timing", bound, f"{late}, {sent}", "", "", "disturbed"]


def render_rows(table_rows: list[list[str]]) -> str:
    return tables.render(HEADER, table_rows)
