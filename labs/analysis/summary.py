"""summary.json of a run: per phase (the fault, then its healing) and per VIP, what the
model expected, what the control plane did, what clients saw, and the verdict."""
from __future__ import annotations

from typing import Any

import scenarios
from labs.analysis import clients, model
from labs.analysis.data import Run


def holders_at(run: Run, vip: str, t: float) -> set[str]:
    """Hosts holding `vip` at time t, replaying the address events."""
    held: set[str] = set()
    for e in run.of_kind("addr"):
        if e["t"] > t:
            break
        if e["address"] == vip:
            (held.add if e["action"] == "add" else held.discard)(e["host"])
    return held


def first(run: Run, kind: str, after: float, before: float, **match: Any) -> dict[str, Any] | None:
    for e in run.of_kind(kind):
        if after <= e["t"] < before and all(e.get(k) == v for k, v in match.items()):
            return e
    return None


def control_plane(run: Run, exp: model.Expectation, t0: float, t1: float) -> dict[str, Any]:
    """When the VIP arrived on its expected new holder, and the verdict against the window."""
    at_fault = holders_at(run, exp.vip, t0)
    added = first(run, "addr", t0, t1, address=exp.vip, host=exp.to_host, action="add")
    master = first(run, "vrrp", t0, t1, instance=exp.instance, host=exp.to_host, state="MASTER")
    removed = first(run, "addr", t0, t1, address=exp.vip, host=exp.from_host, action="del")
    out: dict[str, Any] = {
        "instance": exp.instance, "vip": exp.vip, "from": exp.from_host, "to": exp.to_host,
        "holders_at_start": sorted(at_fault),
        "model": {"earliest_s": round(exp.window.earliest, 3), "latest_s": round(exp.window.latest, 3), "basis": exp.window.basis},
        "vip_up_s": round(added["t"] - t0, 4) if added else None,
        "master_notify_s": round(master["t"] - t0, 4) if master else None,
        "vip_removed_from_old_s": round(removed["t"] - t0, 4) if removed else None,
    }
    if exp.from_host not in at_fault:
        out["verdict"], out["reason"] = "fail", f"at the start {exp.vip} was on {sorted(at_fault) or 'no host'}, not {exp.from_host}: the lab had not converged"
    elif added is None:
        out["verdict"], out["reason"] = "fail", f"{exp.vip} never came up on {exp.to_host} (observed {t1 - t0:.1f} s)"
    elif not exp.window.holds(added["t"] - t0):
        out["verdict"] = "fail"
        out["reason"] = (f"{exp.vip} came up on {exp.to_host} after {added['t'] - t0:.3f} s, outside the model's "
                         f"[{exp.window.earliest:.3f}, {exp.window.latest:.3f}] s ({exp.window.basis})")
    else:
        out["verdict"], out["reason"] = "pass", "inside the model window"
    return out


def phases(run: Run) -> list[tuple[str, float, float, dict[str, Any]]]:
    """(phase, start, end, fault event) for each injected fault and healing."""
    faults = run.of_kind("fault")
    end = max([r.finish_t for r in run.requests] + [e["t"] for e in run.events], default=0.0)
    out = []
    for i, f in enumerate(faults):
        stop = faults[i + 1]["t"] if i + 1 < len(faults) else end
        out.append((f["action"], f["t"], stop, f))
    return out


def summarize(run: Run) -> dict[str, Any]:
    info = run.info
    name, target = info.get("scenario"), info.get("target")
    m = model.load(run.folder, info)
    expectations = scenarios.load(name).expect(m, target) if name else []
    vips = sorted({r.vip for r in run.requests})
    result: dict[str, Any] = {"scenario": name, "target": target, "kernel_backend": info.get("kernel_backend"),
                              "process_start_s": info.get("process_start_s"),
                              "keepalived_start_s": info.get("keepalived_start_s"), "phases": []}
    bounds = phases(run)
    for phase, t0, t1, fault in bounds:
        pins = clients.pinned(run.requests, t0)
        result["phases"].append({
            "phase": phase, "t": t0, "detail": fault.get("detail"),
            "expectations": [control_plane(run, e, t0, t1) for e in expectations if e.phase == phase],
            "clients": {vip: clients.view(run.requests, vip, t0, t1, pins) for vip in vips},
            "ipvs": [{**{k: e[k] for k in ("host", "real_server", "virtual_server", "state")}, "after_s": round(e["t"] - t0, 4)}
                     for e in run.of_kind("ipvs") if t0 <= e["t"] < t1],
            "vrrp": [{**{k: e[k] for k in ("host", "instance", "state")}, "after_s": round(e["t"] - t0, 4)}
                     for e in run.of_kind("vrrp") if t0 <= e["t"] < t1],
        })
    cuts = [min((r.send_t for r in run.requests), default=0.0)] + [b[1] for b in bounds] + [float("inf")]
    names = ["before"] + [b[0] for b in bounds]
    result["distribution"] = {n: clients.distribution(run.requests, a, b) for n, a, b in zip(names, cuts, cuts[1:])}
    result["probe"] = clients.probe_quality(run.requests, info)
    checks = [e for p in result["phases"] for e in p["expectations"]]
    if not bounds:
        result["verdict"], result["reason"] = "fail", "no fault was recorded in events.jsonl"
    elif any(c["verdict"] == "fail" for c in checks):
        result["verdict"] = "fail"
        result["reason"] = "; ".join(c["reason"] for c in checks if c["verdict"] == "fail")
    else:
        result["verdict"], result["reason"] = "pass", f"{len(checks)} expectation(s) inside the model"
    return result


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def table(summary: dict[str, Any]) -> str:
    """One line per phase and VIP: model window, control plane, client outage, failures, verdict."""
    header = ["scenario", "phase", "VIP", "model window", "control plane", "client outage", "failed", "verdict"]
    rows = []
    for p in summary["phases"]:
        for e in p["expectations"]:
            rows.append([f"{summary['scenario']}@{summary['target']}", p["phase"], f"{e['vip']} {e['from']}->{e['to']}",
                         f"{e['model']['earliest_s']:.2f}-{e['model']['latest_s']:.2f}s", _s(e["vip_up_s"]), "", "",
                         e["verdict"]])
        for vip, c in p["clients"].items():
            outage = _s(c["outage_s"]) + (" (ongoing)" if c["ongoing"] else "")
            rows.append([f"{summary['scenario']}@{summary['target']}", p["phase"], f"{vip} (clients)", "", "", outage,
                         f"{c['failed']}/{c['requests']}", ""])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths)), *(fmt.format(*r) for r in rows)]
    lines.append(f"verdict: {summary['verdict'].upper()} — {summary['reason']}")
    return "\n".join(lines)
