"""summary.json of a run: per phase (the fault, then its healing) and per VIP, what the
model expected, what the control plane did, what clients saw, and the verdict."""
from __future__ import annotations

import dataclasses
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


def duplicate_s(run: Run, vip: str, t0: float, t1: float) -> float:
    """Seconds within [t0, t1) during which more than one host held `vip`."""
    held = holders_at(run, vip, t0)
    total, since = 0.0, t0 if len(held) > 1 else None
    for e in run.of_kind("addr"):
        if not t0 <= e["t"] < t1 or e["address"] != vip:
            continue
        (held.add if e["action"] == "add" else held.discard)(e["host"])
        if len(held) > 1 and since is None:
            since = e["t"]
        elif len(held) <= 1 and since is not None:
            total, since = total + e["t"] - since, None
    if since is not None:
        total += t1 - since
    return round(total, 4)


def _judge(out: dict[str, Any], window: model.Window | None, measured: float | None, what: str, t1: float, t0: float) -> dict[str, Any]:
    out["measured_s"] = None if measured is None else round(measured, 4)
    if window is not None:
        out["model"] = {"earliest_s": round(window.earliest, 3), "latest_s": round(window.latest, 3), "basis": window.basis}
    if "verdict" in out:
        return out
    if measured is None:
        out["verdict"], out["reason"] = "fail", f"{what} never happened (observed {t1 - t0:.1f} s)"
    elif window is not None and not window.holds(measured):
        out["verdict"] = "fail"
        out["reason"] = (f"{what} after {measured:.3f} s, outside the model's [{window.earliest:.3f}, "
                         f"{window.latest:.3f}] s ({window.basis})")
    else:
        out["verdict"], out["reason"] = "pass", "inside the model window"
    return out


def evaluate(run: Run, exp: model.Expectation, t0: float, t1: float, applied_in: float = 0.0) -> dict[str, Any]:
    """One expectation against the events of [t0, t1): what happened, when, the verdict.
    `applied_in`: how long the fault took to apply (its window is widened by it)."""
    if hasattr(exp, "window"):
        exp = dataclasses.replace(exp, window=exp.window.widened(applied_in))  # type: ignore[arg-type]
    if isinstance(exp, model.Move):
        at_start = holders_at(run, exp.vip, t0)
        added = first(run, "addr", t0, t1, address=exp.vip, host=exp.to_host, action="add")
        master = first(run, "vrrp", t0, t1, instance=exp.instance, host=exp.to_host, state="MASTER")
        removed = first(run, "addr", t0, t1, address=exp.vip, host=exp.from_host, action="del")
        out: dict[str, Any] = {
            "kind": "move", "what": f"{exp.vip} {exp.from_host}->{exp.to_host}", "vip": exp.vip,
            "instance": exp.instance, "from": exp.from_host, "to": exp.to_host, "holders_at_start": sorted(at_start),
            "master_notify_s": round(master["t"] - t0, 4) if master else None,
            "vip_removed_from_old_s": round(removed["t"] - t0, 4) if removed else None,
            "duplicate_s": duplicate_s(run, exp.vip, t0, t1),
        }
        window = exp.window
        if exp.after_restart_of:
            started = first(run, "vrrp", t0, t1, host=exp.after_restart_of)
            if started is None:
                out["verdict"], out["reason"] = "fail", f"keepalived on {exp.after_restart_of} never started"
            else:
                # The anchor is an observed time too: allow it the same latency both ways.
                offset = started["t"] - t0
                out["restart_s"] = round(offset, 4)
                window = model.Window(window.earliest + offset - model.LATENCY, window.latest + offset,
                                      f"{window.basis}, after keepalived on {exp.after_restart_of} started ({offset:.3f} s)")
        if exp.from_host not in at_start:
            out["verdict"] = "fail"
            out["reason"] = f"at the start {exp.vip} was on {sorted(at_start) or 'no host'}, not {exp.from_host}: the lab had not converged"
        return _judge(out, window, added and added["t"] - t0, f"{exp.vip} up on {exp.to_host}", t1, t0)
    if isinstance(exp, model.Release):
        gone = first(run, "addr", t0, t1, address=exp.vip, host=exp.host, action="del")
        out = {"kind": "release", "what": f"{exp.vip} released by {exp.host}", "vip": exp.vip, "host": exp.host,
               "duplicate_s": duplicate_s(run, exp.vip, t0, t1)}
        if exp.host not in holders_at(run, exp.vip, t0):
            out["verdict"], out["reason"] = "fail", f"{exp.host} did not hold {exp.vip} at the start"
        return _judge(out, exp.window, gone and gone["t"] - t0, f"{exp.vip} released by {exp.host}", t1, t0)
    if isinstance(exp, model.Stay):
        moved = [e for e in run.of_kind("addr") if t0 <= e["t"] < t1 and e["address"] == exp.vip
                 and (e["host"] != exp.host) == (e["action"] == "add")]
        out = {"kind": "stay", "what": f"{exp.vip} stays on {exp.host}", "vip": exp.vip, "host": exp.host}
        if exp.host not in holders_at(run, exp.vip, t0):
            out["verdict"], out["reason"] = "fail", f"{exp.vip} was not on {exp.host} at the start"
        elif moved:
            e = moved[0]
            out["verdict"] = "fail"
            out["reason"] = f"{exp.vip} {'appeared on' if e['action'] == 'add' else 'left'} {e['host']} after {e['t'] - t0:.3f} s"
        else:
            out["verdict"], out["reason"] = "pass", "did not move"
        return _judge(out, None, 0.0, "", t1, t0)
    if isinstance(exp, model.Moves):
        arrivals = [e for e in run.of_kind("addr") if t0 <= e["t"] < t1 and e["address"] == exp.vip
                    and e["host"] == exp.to_host and e["action"] == "add"]
        out = {"kind": "moves", "what": f"{exp.vip} arrivals on {exp.to_host}", "vip": exp.vip, "count": len(arrivals),
               "expected_count": exp.count, "at_s": [round(e["t"] - t0, 3) for e in arrivals],
               "duplicate_s": duplicate_s(run, exp.vip, t0, t1)}
        ok = len(arrivals) == exp.count
        out["verdict"] = "pass" if ok else "fail"
        out["reason"] = f"{len(arrivals)} arrival(s), the model expects {exp.count}"
        return _judge(out, None, None if not arrivals else arrivals[-1]["t"] - t0, "", t1, t0)
    if isinstance(exp, model.Checker):
        times = []
        for d in exp.directors:
            e = first(run, "ipvs", t0, t1, host=d, real_server=exp.real_server, state=exp.state)
            times.append(e["t"] - t0 if e else None)
        out = {"kind": "checker", "what": f"{exp.real_server} {exp.state} on {','.join(exp.directors)}",
               "per_director_s": dict(zip(exp.directors, [None if t is None else round(t, 4) for t in times]))}
        measured = None if None in times else max(t for t in times if t is not None)
        return _judge(out, exp.window, measured, f"{exp.real_server} {exp.state} on every director", t1, t0)
    if isinstance(exp, model.ClientBlip):
        failed = [r for r in run.requests if t0 <= r.send_t < t1 and not r.ok]
        out = {"kind": "client_blip", "what": "client failures end", "failed": len(failed)}
        last = failed[-1].send_t - t0 if failed else 0.0
        return _judge(out, exp.window, last, "the last client failure", t1, t0)
    if isinstance(exp, model.Share):
        answers = clients.distribution(run.requests, t0, t1)["by_vip"].get(exp.vip, {})
        total = sum(answers.values())
        share = max(answers.values()) / total if total else None
        out = {"kind": "share", "what": f"{exp.vip} busiest server's share", "vip": exp.vip, "answers": answers}
        return _judge(out, exp.window, share, f"answers on {exp.vip}", t1, t0)
    raise TypeError(exp)


def phases(run: Run) -> list[tuple[str, float, float, dict[str, Any]]]:
    """(phase, start, end, fault event) for each injected fault and healing."""
    faults = run.of_kind("fault")
    # Observation ends when the runner says so; teardown's events come after and are not the fault's.
    ends = run.of_kind("end")
    end = ends[0]["t"] if ends else max([r.finish_t for r in run.requests] + [e["t"] for e in run.events], default=0.0)
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
        notes = [n for n in run.of_kind("fault_note") if n.get("ref_t") == t0]
        applied_in = sum(n.get("applied_in_s", 0.0) for n in notes)
        result["phases"].append({
            "phase": phase, "t": t0, "detail": fault.get("detail"),
            "notes": [{k: v for k, v in n.items() if k not in ("t", "kind", "ref_t")} for n in notes],
            "expectations": [evaluate(run, e, t0, t1, applied_in) for e in expectations if e.phase == phase],
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
    """One line per expectation and per probed VIP: model window, measured, client view, verdict."""
    return render_rows(rows(summary)) + f"\nverdict: {summary['verdict'].upper()} — {summary['reason']}"


HEADER = ["scenario", "phase", "what", "model window", "measured", "client outage", "failed", "verdict"]


def cells(e: dict[str, Any]) -> list[str]:
    """what, model window, measured, verdict of one evaluated expectation (seconds, a
    count for flaps, a fraction for shares)."""
    m = e.get("model")
    value = e.get("measured_s")
    if e["kind"] == "share":
        window = f"{m['earliest_s']:.0%}-{m['latest_s']:.0%}"
        measured = "-" if value is None else f"{value:.0%}"
    else:
        window = f"{m['earliest_s']:.2f}-{m['latest_s']:.2f}s" if m else "-"
        measured = {"moves": str(e.get("count")), "stay": "-"}.get(e["kind"], _s(value))
    return [e["what"], window, measured, e["verdict"]]


def rows(summary: dict[str, Any]) -> list[list[str]]:
    name = f"{summary['scenario']}@{summary['target']}"
    out = []
    for p in summary["phases"]:
        for e in p["expectations"]:
            what, window, measured, verdict = cells(e)
            out.append([name, p["phase"], what, window, measured, "", "", verdict])
        for vip, c in p["clients"].items():
            outage = _s(c["outage_s"]) + (" (ongoing)" if c["ongoing"] else "")
            out.append([name, p["phase"], f"{vip} clients", "", "", outage, f"{c['failed']}/{c['requests']}", ""])
    return out


def render_rows(table_rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [HEADER, *table_rows]) for i in range(len(HEADER))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*HEADER), fmt.format(*("-" * w for w in widths)), *(fmt.format(*r) for r in table_rows)])
