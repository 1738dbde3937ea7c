"""Convergence timeline and distribution charts of one run, drawn from its files alone
(matplotlib's object API: no pyplot state, no backend switched at import).

Made to be read on a projector: one lane per VIP, every probe a tick at its send time
coloured by the server that answered (failures in red), the fault and healing as black
lines, VRRP transitions, VIP moves and IPVS changes as thin labelled lines, which host's MAC
the client sent the VIP's traffic to (a thin band, from its ARP entries), the error window
shaded and labelled with its failed requests, the model's window drawn beside it.
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from labs import version
from labs.analysis import connections as conn_file
from labs.analysis.data import Run
from labs.analysis.expectations import Connections, described

SERVER_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f"]
FAILED = "#d62728"
PERIODS = ("before", "inject", "heal")


def title(summary: dict[str, Any]) -> str:
    """What was done, and the verdict only where something was judged."""
    steps = summary.get("steps")
    if steps:
        what = "interactive session: " + ", then ".join(f"{s['scenario']} on {s['target']}" for s in steps)
    elif summary.get("scenario"):
        what = f"{summary['scenario']} on {summary['target']}"
    else:
        what = "interactive session: nothing injected"
    return what if summary.get("verdict", "none") == "none" else f"{what}: {summary['verdict'].upper()}"


def _servers(run: Run) -> list[str]:
    return sorted({r.server for r in run.requests if r.ok and r.server})


def _colour(servers: list[str], server: str) -> str:
    return SERVER_COLOURS[servers.index(server) % len(SERVER_COLOURS)]


def timeline(run: Run, summary: dict[str, Any]) -> Figure:
    """The convergence timeline; x is seconds from the first fault."""
    faults = run.of_kind("fault")
    zero = faults[0]["t"] if faults else (run.requests[0].send_t if run.requests else 0.0)
    probed = sorted({r.vip for r in run.requests})
    moved = [e["vip"] for p in summary.get("phases", []) for e in p["expectations"] if e.get("vip")]
    # without a probe, the VIPs that changed hands after the first fault still get a lane
    ends = run.of_kind("end")
    until = ends[0]["t"] if ends else float("inf")
    changed = {e["address"] for e in run.of_kind("addr") if faults and zero <= e["t"] < until and not e.get("snapshot")}
    lanes = probed + sorted((set(moved) | (changed if not probed else set())) - set(probed))
    servers = _servers(run)
    fig = Figure(figsize=(14, 1.9 * max(len(lanes), 1) + 1.2))
    axes = fig.subplots(len(lanes) or 1, 1, sharex=True, squeeze=False)
    fig.suptitle(title(summary), fontsize=15)
    for ax, vip in zip(axes[:, 0], lanes):
        mine = [r for r in run.requests if r.vip == vip]
        for i, server in enumerate(servers):  # one row per server, so none hides another
            xs = [r.send_t - zero for r in mine if r.ok and r.server == server]
            if xs:
                ax.scatter(xs, [0.5 + 0.15 * i] * len(xs), marker="|", s=120, color=_colour(servers, server), label=server)
        bad = [r.send_t - zero for r in mine if not r.ok]
        if bad:
            ax.scatter(bad, [0.35] * len(bad), marker="x", s=40, color=FAILED, label="failed")
        _events(ax, run, vip, zero)
        _arp(ax, run, vip, zero)
        _phases(ax, summary, vip, zero)
        ax.set_ylim(0, 1.35)
        ax.set_yticks([])
        ax.set_ylabel(vip, rotation=0, ha="right", va="center", fontsize=12)
        ax.grid(axis="x", alpha=0.3)
    for f in faults:
        for ax in axes[:, 0]:
            ax.axvline(f["t"] - zero, color="black", lw=2)
        axes[0, 0].text(f["t"] - zero, 1.36, f" {f['action']}", fontsize=11, fontweight="bold", va="bottom")
    handles = {}
    for ax in axes[:, 0]:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    if handles:
        fig.legend(handles.values(), handles.keys(), loc="upper right", ncol=len(handles), fontsize=10)
    if run.requests:  # the probed span: bring-up's and teardown's events stay out of view
        axes[-1, 0].set_xlim(run.requests[0].send_t - zero - 0.5, max(r.finish_t for r in run.requests) - zero + 0.5)
    axes[-1, 0].set_xlabel("seconds from the fault", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


MERGE_S = 1.0  # events of the same kind closer than this share one label


def merged(items: list[tuple[float, str, str]], within: float = MERGE_S) -> list[tuple[float, str]]:
    """(t, host, what) events -> one label per run of the same `what` whose events are
    less than `within` s apart: (first t, "host1, host2: what"). Eight checker lines for
    two directors become "lvs1, lvs2: .111:80 DOWN" once per change, readable at any
    event density."""
    out: list[tuple[float, str, list[str], float]] = []  # (first t, what, hosts, last t)
    for t, host, what in sorted(items):
        for n, (first, w, hosts, last) in enumerate(out):
            if w == what and t - last < within:
                out[n] = (first, w, hosts if host in hosts else [*hosts, host], t)
                break
        else:
            out.append((t, what, [host], t))
    return [(first, f"{', '.join(hosts)}: {what}") for first, what, hosts, _ in out]


def _short(address: str) -> str:
    """192.168.56.111:80 -> .111:80 (the lane already names the subnet)."""
    return "." + address.rsplit(".", 1)[1] if address.count(".") == 3 else address


def _events(ax: Any, run: Run, vip: str, zero: float) -> None:
    """VIP add/remove for this lane's VIP and IPVS changes naming it (as real or virtual
    server): a thin line each, one label per burst of the same change (`merged`),
    labels of bursts close together staggered in height."""
    ends = run.of_kind("end")  # bring-up's and teardown's events are not part of the story
    until = ends[0]["t"] if ends else float("inf")
    since = run.requests[0].send_t if run.requests else float("-inf")
    adds = [(e["t"] - zero, e["host"], e["action"]) for e in run.of_kind("addr")
            if e["address"] == vip and since <= e["t"] < until]
    for t, _, action in adds:
        ax.axvline(t, color="#2ca02c" if action == "add" else "#8c564b", lw=1, ls=":")
    checks = [(e["t"] - zero, e["host"], f"{_short(e['real_server'])} {e['state']}") for e in run.of_kind("ipvs")
              if vip in (e["real_server"].split(":")[0], e["virtual_server"].split(":")[0]) and since <= e["t"] < until]
    for t, _, _ in checks:
        ax.axvline(t, color="grey", lw=1, ls="--")
    for n, (t, label) in enumerate(merged(adds)):
        ax.text(t, 1.02 + 0.1 * (n % 2), label, fontsize=8, va="bottom", clip_on=True)
    for n, (t, label) in enumerate(merged(checks)):
        ax.text(t, 0.55 + 0.12 * (n % 3), label, fontsize=8, color="dimgrey", va="bottom", clip_on=True)


def _arp(ax: Any, run: Run, vip: str, zero: float) -> None:
    """A band at the bottom of the lane: whose MAC the client's ARP entry for `vip` held,
    labelled at each change (a yielded host's MAC here while requests fail is stale ARP)."""
    owner = {e["mac"]: e["host"] for e in run.of_kind("mac") if e.get("mac")}
    changes: list[tuple[float, str]] = []
    for e in run.of_kind("neigh"):
        if e["address"] == vip and e.get("lladdr"):
            host = owner.get(e["lladdr"], e["lladdr"])
            if not changes or changes[-1][1] != host:
                changes.append((e["t"] - zero, host))
    hosts = sorted({h for _, h in changes})
    end = max((r.finish_t for r in run.requests), default=zero) - zero
    start = min((r.send_t for r in run.requests), default=zero) - zero  # the entry as the probe found it
    changes = [(max(t, start), h) for t, h in changes]
    for (t, host), nxt in zip(changes, [*changes[1:], (end, "")]):
        ax.plot([t, nxt[0]], [0.29, 0.29], lw=5, solid_capstyle="butt",
                color=SERVER_COLOURS[(hosts.index(host) + 4) % len(SERVER_COLOURS)])
    # one label per burst: a client flipping between two masters' GARPs reads "ARP: lvs1, lvs2"
    for t, label in merged([(t, host, "ARP") for t, host in changes]):
        hosts_part, _ = label.rsplit(": ", 1)
        ax.text(t, 0.31, f"ARP: {hosts_part}", fontsize=8, va="bottom", clip_on=True)


def _phases(ax: Any, summary: dict[str, Any], vip: str, zero: float) -> None:
    for n, p in enumerate(summary.get("phases", [])):
        t0 = p["t"] - zero
        c = p["clients"].get(vip)
        if c and c["error_window"]:
            ew = c["error_window"]
            end = p["end"] if c["ongoing"] and "end" in p else ew["end"]
            ax.axvspan(ew["start"] - zero, end - zero, color=FAILED, alpha=0.15)
            label = (f"{c['failed']} of {c['requests']} failed over {ew['span_s']:.2f} s ({ew['failure_rate']:.0%})"
                     + (", still failing" if c["ongoing"] else ""))
            ax.text(ew["start"] - zero, 1.2, label, fontsize=10, color=FAILED, fontweight="bold")
        for e in p["expectations"]:
            drawn = described(e).timeline
            if e.get("vip") != vip or not e.get("model") or not drawn:
                continue
            m = e["model"]
            if drawn == "bound":  # the bound only: the error window above shows the rest
                if m["latest_s"] is None:
                    continue
                colour = FAILED if e["verdict"] == "fail" else "#2ca02c"
                ax.axvline(t0 + m["latest_s"], ymin=0.0, ymax=0.45, color=colour, lw=1.5, ls="--")
                ax.text(t0 + m["latest_s"], 0.40 + 0.08 * (n % 2), f" clients whole by {m['latest_s']:.2f} s: {e['verdict']}",
                        fontsize=8, color=colour, clip_on=True)
                continue
            ax.axvspan(t0 + m["earliest_s"], t0 + m["latest_s"], ymin=0.0, ymax=0.15, color="#2ca02c", alpha=0.35)
            ax.text(t0 + m["latest_s"], 0.08, f" model {m['earliest_s']:.2f}-{m['latest_s']:.2f} s", fontsize=9, color="#2ca02c")
            if e.get("measured_s") is not None:
                ax.plot([t0 + e["measured_s"]], [0.15], marker="v", ms=11, color="black")
                ax.text(t0 + e["measured_s"], 0.16, f" {e['what']}: {e['measured_s']:.2f} s", fontsize=9)


def distribution(summary: dict[str, Any]) -> Figure:
    """Answers per real server for each LVS VIP and each client address, per period."""
    dist = summary.get("distribution", {})
    periods = [p for p in PERIODS if p in dist]
    vips = sorted({v for p in periods for v in dist[p]["by_vip"]})
    sources = sorted({s for p in periods for s in dist[p]["by_source"]}, key=lambda a: [int(x) for x in a.split(".")])
    servers = sorted({srv for p in periods for d in dist[p]["by_vip"].values() for srv in d})
    fig = Figure(figsize=(14, 8))
    top, bottom = fig.subplots(2, 1)
    fig.suptitle(f"where requests went: {title(summary)}", fontsize=15)
    _grouped(top, [(f"{v}\n{p}", dist[p]["by_vip"].get(v, {})) for v in vips for p in periods], servers)
    top.set_title("per LVS VIP, before / during the fault / after healing")
    _grouped(bottom, [(f"{s.rsplit('.', 1)[1]}\n{p[:3]}", dist[p]["by_source"].get(s, {})) for s in sources for p in periods],
             servers)
    bottom.set_title("per client address (last octet)")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def _grouped(ax: Any, groups: list[tuple[str, dict[str, int]]], servers: list[str]) -> None:
    width = 0.8 / max(len(servers), 1)
    for i, server in enumerate(servers):
        xs = [n + i * width for n in range(len(groups))]
        ax.bar(xs, [g[1].get(server, 0) for g in groups], width, label=server, color=SERVER_COLOURS[i % len(SERVER_COLOURS)])
    ax.set_xticks([n + 0.4 - width / 2 for n in range(len(groups))])
    ax.set_xticklabels([g[0] for g in groups], fontsize=8)
    ax.set_ylabel("answers")
    if servers:  # no answers, no legend (matplotlib would warn)
        ax.legend()


def drawn_on(folder: Path) -> str:
    """The UTC day the run in `folder` was made: run.json's `started`, else the time
    stamp a results folder's name begins with (a suite's, a sweep's), else today."""
    info = folder / "run.json"
    started = json.loads(info.read_text()).get("started") if info.exists() else None
    if started is not None:
        return time.strftime("%Y-%m-%d", time.gmtime(started))
    try:
        return time.strftime("%Y-%m-%d", time.strptime(folder.name[:16], "%Y%m%dT%H%M%SZ"))
    except ValueError:
        return time.strftime("%Y-%m-%d", time.gmtime())


def stamp(folder: Path) -> str:
    return f"halab {version()}, {drawn_on(folder)}"


def save(fig: Figure, folder: Path, name: str) -> list[Path]:
    """The figure as PNG and SVG, stamped with what drew it and the day of its run: a
    chart copied into a guide or a bug report still says when and by what it was made."""
    fig.text(0.998, 0.002, stamp(folder), ha="right", va="bottom", fontsize=7, color="grey")
    paths = [folder / f"{name}.png", folder / f"{name}.svg"]
    fig.savefig(paths[0], dpi=110)
    fig.savefig(paths[1])
    return paths


def spread(summaries: list[dict[str, Any]]) -> Figure:
    """Each figure over repeated runs against the model: one row per scenario/phase/what,
    a dot per run, the model's window as a band (the union over the runs)."""
    rows: dict[str, dict[str, Any]] = {}
    for s in summaries:
        for p in s.get("phases", []):
            for e in p["expectations"]:
                if e.get("measured_s") is None or not described(e).timed:
                    continue
                key = f"{s['scenario']}@{s['target']} {p['phase']}: {e['what']}"
                row = rows.setdefault(key, {"values": [], "lo": float("inf"), "hi": 0.0})
                row["values"].append(e["measured_s"])
                m = e.get("model") or {}
                if m.get("earliest_s") is not None and m.get("latest_s") is not None:  # no bound: no band
                    row["lo"] = min(row["lo"], m["earliest_s"])
                    row["hi"] = max(row["hi"], m["latest_s"])
    fig = Figure(figsize=(14, 1.0 + 0.6 * max(len(rows), 1)))
    ax = fig.subplots()
    for y, (key, row) in enumerate(rows.items()):
        if row["hi"]:
            ax.barh(y, row["hi"] - row["lo"], left=row["lo"], height=0.6, color="#2ca02c", alpha=0.3)
        ax.scatter(row["values"], [y] * len(row["values"]), color="black", zorder=3, s=30)
        ax.text(max(row["values"] + [row["hi"]]) + 0.05, y, f" n={len(row['values'])}", va="center", fontsize=9)
    ax.set_xlim(left=0)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(list(rows), fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("seconds from the fault (dots: runs; green: the model's window)")
    ax.set_title(f"spread over {len(summaries)} runs", fontsize=14)
    fig.tight_layout()
    return fig


def aligned(runs: list[tuple[str, Run]]) -> Figure:
    """Timelines of several runs, each aligned at its first fault, one band per run."""
    vips = sorted({r.vip for _, run in runs for r in run.requests})
    fig = Figure(figsize=(14, 2.4 * max(len(vips), 1) + 1))
    axes = fig.subplots(len(vips) or 1, 1, sharex=True, squeeze=False)
    for ax, vip in zip(axes[:, 0], vips):
        for n, (label, run) in enumerate(runs):
            faults = run.of_kind("fault")
            zero = faults[0]["t"] if faults else 0.0
            y = 1.0 - (n + 0.5) / len(runs)
            mine = [r for r in run.requests if r.vip == vip]
            ax.scatter([r.send_t - zero for r in mine if r.ok], [y] * sum(r.ok for r in mine), marker="|", s=90,
                       color=SERVER_COLOURS[n % len(SERVER_COLOURS)], label=f"{label} answered")
            bad = [r.send_t - zero for r in mine if not r.ok]
            ax.scatter(bad, [y - 0.08] * len(bad), marker="x", s=25, color=FAILED, label="failed" if n == 0 else None)
            for f in faults:
                ax.axvline(f["t"] - zero, color="black", lw=1.5, ls="-" if f["action"] == "inject" else "--")
        ax.set_ylim(0, 1)
        ax.set_yticks([1.0 - (n + 0.5) / len(runs) for n in range(len(runs))])
        ax.set_yticklabels([label for label, _ in runs], fontsize=10)
        ax.set_title(vip, loc="left", fontsize=11)
    if axes[0, 0].get_legend_handles_labels()[0]:
        axes[0, 0].legend(loc="upper right", fontsize=9)
    axes[-1, 0].set_xlabel("seconds from each run's fault")
    fig.tight_layout()
    return fig


def sweep(doc: dict[str, Any]) -> Figure:
    """Failover against a swept setting: for each value the model's window (green bar), every
    run a dot, the medians joined; below, the requests clients saw fail in each run."""
    values = doc["values"]
    xs = range(len(values))
    fig = Figure(figsize=(max(8, 1.6 * len(values) + 3), 8))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    medians: list[tuple[int, float]] = []
    for x, entry in zip(xs, values):
        runs = entry["runs"]
        lo = [r["model_earliest_s"] for r in runs if r["model_earliest_s"] is not None]
        hi = [r["model_latest_s"] for r in runs if r["model_latest_s"] is not None]
        if lo and hi:
            top.bar(x, max(hi) - min(lo), bottom=min(lo), width=0.5, color="#2ca02c", alpha=0.3,
                    label="the model's window" if x == 0 else None)
        spread_x = [x + (i - (len(runs) - 1) / 2) * 0.06 for i in range(len(runs))]  # side by side, not on top
        timed = [(sx, r["measured_s"]) for sx, r in zip(spread_x, runs) if r["measured_s"] is not None]
        top.scatter([t[0] for t in timed], [t[1] for t in timed], color="black", zorder=3, s=28,
                    label="a run" if x == 0 else None)
        if timed:
            medians.append((x, statistics.median(t[1] for t in timed)))
        bottom.scatter(spread_x, [r["failed"] for r in runs], color=FAILED, zorder=3, s=28)
    if medians:
        top.plot([m[0] for m in medians], [m[1] for m in medians], color="black", linewidth=1.2, label="median")
    what = next((r["what"] for e in values for r in e["runs"] if r["what"]), "the VIP move")
    top.set_ylabel(f"failover (s): {what}")
    top.set_ylim(bottom=0)
    top.legend(loc="best")
    top.grid(axis="y", alpha=0.3)
    bottom.set_ylabel("requests failed\n(inject phase)")
    bottom.set_ylim(bottom=0, top=max(1.0, bottom.get_ylim()[1]))  # no failure at all: 0 and 1, not 0.006 steps
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))  # requests are counted
    bottom.grid(axis="y", alpha=0.3)
    bottom.set_xticks(list(xs))
    bottom.set_xticklabels([str(e["value"]) for e in values])
    bottom.set_xlabel(doc["setting"])
    lab = doc["topology"] + (f", variant {doc['variant']}" if doc.get("variant", "default") != "default" else "")
    fig.suptitle(f"{doc['scenario_name']} on {doc['target']}: failover against {doc['setting']} ({lab})", fontsize=14)
    fig.tight_layout()
    return fig


def connections(folder: Path, run: Run, summary: dict[str, Any]) -> Figure:
    """The connection probe's long-lived connections (connections.csv), one row each, one
    panel per VIP: an answer is a tick coloured by its server, the error that ended a
    connection a red cross; each row is labelled with its age at the first fault and
    whether a director other than its own knew it then (`known_by`); the fault and the
    healing are black lines. x is seconds from the first fault."""
    conns = conn_file.read(folder)
    faults = run.of_kind("fault")
    zero = faults[0]["t"] if faults else min((c.rows[0].send_t for c in conns), default=0.0)
    vips = sorted({c.vip for c in conns})
    known = {(f["vip"], f["conn"]): f for p in summary.get("phases", [])[:1] for e in p["expectations"]
             if e["kind"] == Connections.kind for f in e["connections"]}
    servers = sorted({r.server for c in conns for r in c.rows if r.ok and r.server})
    fig = Figure(figsize=(14, 0.28 * max(len(conns), 1) + 1.6 * max(len(vips), 1)))
    axes = fig.subplots(len(vips) or 1, 1, sharex=True, squeeze=False)
    fig.suptitle(f"{title(summary)}: long-lived connections", fontsize=15)
    for ax, vip in zip((a[0] for a in axes), vips):
        mine = [c for c in conns if c.vip == vip]
        labels = []
        for y, c in enumerate(mine):
            for server in servers:
                xs = [r.finish_t - zero for r in c.rows if r.ok and r.server == server]
                ax.plot(xs, [y] * len(xs), "|", ms=7, color=_colour(servers, server),
                        label=server if y == 0 else None)
            bad = [r for r in c.rows if not r.ok]
            if bad:
                ax.plot([bad[0].finish_t - zero], [y], "x", ms=9, mew=2, color=FAILED)
                ax.text(bad[0].finish_t - zero, y, f"  {bad[0].error}", fontsize=7, va="center", color=FAILED)
            f = known.get((vip, c.conn), {})
            age = f"{f['age_s']:.1f} s" if f.get("age_s") is not None else "-"
            labels.append(f"{age}" + (f" {'+'.join(f['known_by'])}" if f.get("known_by") is not None else ""))
        ax.set_yticks(range(len(mine)))
        ax.set_yticklabels(labels, fontsize=7)
        ax.set_ylim(-1, len(mine))
        ax.set_ylabel(f"{vip}\nage at fault, known by", fontsize=9)
        for e in faults:
            ax.axvline(e["t"] - zero, color="black", lw=1.5)
            ax.text(e["t"] - zero, len(mine) - 0.5, f" {e['action']}", fontsize=9)
    axes[-1][0].set_xlabel("seconds from the fault")
    axes[0][0].legend(loc="lower left", fontsize=8)
    return fig
