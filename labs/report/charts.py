"""Convergence timeline and distribution charts of one run, drawn from its files alone
(matplotlib's object API: no pyplot state, no backend switched at import).

Made to be read on a projector: one lane per VIP, every probe a tick at its send time
coloured by the server that answered (failures in red), the fault and healing as black
lines, VIP moves and IPVS changes as thin labelled lines, which host's MAC the client sent
the VIP's traffic to (a thin band over the ticks, from its ARP entries), the model's
windows with the measured times, the error window shaded and labelled with its failed
requests. Labels sit on rows above the ticks, none over another; every kind of mark is
named in the legend.
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import ScaledTranslation

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


# A lane's y unit is the point (1/72 in): its marks sit at fixed heights from its bottom,
# its labels on rows above them, so nothing depends on how many rows a lane needs.
ROW = 13.0  # one row of labels
GAP = 6.0  # the least space between two labels on a row
FAULT_ROW = 16.0  # a row of fault labels above the first lane
WIDTH = 14 * 72.0  # the figure's width
LABEL_BOX = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}  # lines pass under


class _Label:
    """A text naming a mark at data x `x`; `leaders` are the mark's vertical lines, drawn
    up to the text once it has its row; the lower its `rank`, the lower its row."""

    def __init__(self, x: float, text: str, rank: int, leaders: list[Any] | None = None, **style: Any) -> None:
        self.x, self.text, self.rank, self.leaders, self.style = x, text, rank, leaders or [], style
        self.row, self.ha, self.artist = 0, "left", None


class _Lane:
    """Heights in a lane, in points from its bottom: the failed probes, one row of ticks per
    server, the ARP band, the model's windows with the measured times, then label rows."""

    def __init__(self, servers: int) -> None:
        self.failed = 8.0
        self.ticks = [21.0 + 12.0 * i for i in range(servers)]
        top = (self.ticks[-1] if self.ticks else self.failed) + 7.0
        self.arp = top + 4.0
        self.model = (top + 9.0, top + 17.0)
        self.base = top + 21.0  # the first label row's bottom
        self.labels: list[_Label] = []
        self.rows = 0

    @property
    def height(self) -> float:
        return self.base + self.rows * ROW + 3.0

    def row_y(self, row: int) -> float:
        return self.base + row * ROW


def _pack(labels: list[_Label], left: float, right: float, widths: list[float], to_pt: Any) -> int:
    """Give each label (in order) the lowest row where it clears every label already on
    it by GAP points; a label that would run past the right edge ends at its mark instead.
    Returns the number of rows."""
    rows: list[list[tuple[float, float]]] = []
    for label, w in zip(labels, widths):
        x = min(max(to_pt(label.x), left), right)
        label.ha, x0, x1 = ("left", x, x + w) if x + w <= right else ("right", x - w, x)
        for n, row in enumerate(rows):
            if all(x1 + GAP <= a or b + GAP <= x0 for a, b in row):
                break
        else:
            n = len(rows)
            rows.append([])
        rows[n].append((x0, x1))
        label.row = n
    return len(rows)


def timeline(run: Run, summary: dict[str, Any]) -> Figure:
    """The convergence timeline; x is seconds from the first fault. Every label gets a row
    of its own where it would touch another (`_pack`), above the probe ticks; every kind
    of mark is named in the legend below."""
    faults = run.of_kind("fault")
    zero = faults[0]["t"] if faults else (run.requests[0].send_t if run.requests else 0.0)
    probed = sorted({r.vip for r in run.requests})
    moved = [e["vip"] for p in summary.get("phases", []) for e in p["expectations"] if e.get("vip")]
    # without a probe, the VIPs that changed hands after the first fault still get a lane
    ends = run.of_kind("end")
    until = ends[0]["t"] if ends else float("inf")
    changed = {e["address"] for e in run.of_kind("addr") if faults and zero <= e["t"] < until and not e.get("snapshot")}
    vips = probed + sorted((set(moved) | (changed if not probed else set())) - set(probed))
    servers = _servers(run)
    fig = Figure(figsize=(14, 6))
    renderer = FigureCanvasAgg(fig).get_renderer()  # to measure text; drawing is savefig's
    axes = list(fig.subplots(len(vips) or 1, 1, sharex=True, squeeze=False)[:, 0])
    lanes = [_Lane(len(servers)) for _ in axes]
    for ax, lane, vip in zip(axes, lanes, vips):
        mine = [r for r in run.requests if r.vip == vip]
        for y, server in zip(lane.ticks, servers):  # one row per server, so none hides another
            xs = [r.send_t - zero for r in mine if r.ok and r.server == server]
            if xs:
                ax.scatter(xs, [y] * len(xs), marker="|", s=120, color=_colour(servers, server),
                           label=f"answered by {server}")
        bad = [r.send_t - zero for r in mine if not r.ok]
        if bad:
            ax.scatter(bad, [lane.failed] * len(bad), marker="x", s=40, color=FAILED, label="failed request")
        _arp(ax, lane, run, vip, zero)
        _phases(ax, lane, summary, vip, zero)
        _events(ax, lane, run, vip, zero)
        ax.set_yticks([])
        ax.set_ylabel(vip, rotation=0, ha="right", va="center", fontsize=12)
        ax.grid(axis="x", alpha=0.3)
    fault_labels = []
    for f in faults:
        for ax in axes:
            ax.axvline(f["t"] - zero, color="black", lw=2, label="fault injected / healed")
        fault_labels.append(_Label(f["t"] - zero, f["action"], 0, fontsize=11, fontweight="bold"))
    if run.requests:  # the probed span: bring-up's and teardown's events stay out of view
        axes[-1].set_xlim(run.requests[0].send_t - zero - 0.5, max(r.finish_t for r in run.requests) - zero + 0.5)
    axes[-1].set_xlabel("seconds from the fault", fontsize=12)
    _lay_out(fig, axes, lanes, fault_labels, renderer)
    fig.suptitle(title(summary), fontsize=15, va="top", y=1 - 6.0 / (fig.get_figheight() * 72.0))
    return fig


def _lay_out(fig: Figure, axes: list[Any], lanes: list[_Lane], fault_labels: list[_Label], renderer: Any) -> None:
    """Rows for every label, then the figure's height from what each lane needs: the
    title and the fault labels on top, the lanes, the x axis, the legend, the stamp."""
    pt = 72.0 / fig.dpi  # a pixel in points
    left = max((ax.yaxis.label.get_window_extent(renderer).width * pt for ax in axes), default=0) + 18.0
    width = WIDTH - left - 14.0
    x0, x1 = axes[-1].get_xlim()

    def to_pt(x: float) -> float:
        return (x - x0) / (x1 - x0) * width

    def place(ax: Any, labels: list[_Label]) -> list[float]:
        for label in labels:
            label.artist = ax.text(label.x, 0, label.text, va="bottom", bbox=LABEL_BOX, **label.style)
        return [label.artist.get_window_extent(renderer).width * pt + 2.0 for label in labels]

    for ax, lane in zip(axes, lanes):
        lane.labels.sort(key=lambda label: label.rank)  # ARP next to its band, the error window on top
        for label in [*lane.labels, *fault_labels]:
            label.x = min(max(label.x, x0), x1)  # a mark before the probes began: its label at the left edge
        lane.rows = _pack(lane.labels, 0.0, width, place(ax, lane.labels), to_pt)
    fault_rows = _pack(fault_labels, 0.0, width, place(axes[0], fault_labels), to_pt) if fault_labels else 0
    legend = _legend(fig, axes, renderer)
    legend_h = legend.get_window_extent(renderer).height * pt if legend else 0.0
    top = 30.0 + fault_rows * FAULT_ROW
    bottom = 14.0 + legend_h + 8.0 + 42.0
    gap = 10.0
    height = top + sum(lane.height for lane in lanes) + gap * (len(lanes) - 1) + bottom
    fig.set_size_inches(WIDTH / 72.0, height / 72.0)
    y = height - top
    for ax, lane in zip(axes, lanes):
        y -= lane.height
        ax.set_position([left / WIDTH, y / height, width / WIDTH, lane.height / height])
        ax.set_ylim(0, lane.height)  # a point is a y unit
        y -= gap
        for label in lane.labels:
            _put(fig, label, lane.row_y(label.row), clip=True)
    for label in fault_labels:
        _put(fig, label, lanes[0].height + 3.0 + label.row * FAULT_ROW, clip=False)


def _put(fig: Figure, label: _Label, y: float, clip: bool) -> None:
    """The label on its row, 2 points off its mark, its leader lines up to it."""
    t = label.artist
    dx = 2.0 if label.ha == "left" else -2.0
    t.set_position((label.x, y))
    t.set_horizontalalignment(label.ha)
    t.set_transform(t.axes.transData + ScaledTranslation(dx / 72.0, 0, fig.dpi_scale_trans))
    t.set_clip_on(clip)
    for line in label.leaders:
        line.set_ydata([0, y + 2.0])


def _legend(fig: Figure, axes: list[Any], renderer: Any) -> Any:
    """One legend for every lane's marks, below the x axis, in as many columns as fit."""
    handles: dict[str, Any] = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    if not handles:
        return None
    for ncol in range(min(len(handles), 8), 0, -1):
        legend = fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=ncol, fontsize=9,
                            bbox_to_anchor=(WIDTH / 144.0, 14.0 / 72.0), bbox_transform=fig.dpi_scale_trans)
        if legend.get_window_extent(renderer).width * 72.0 / fig.dpi <= WIDTH - 20 or ncol == 1:
            return legend
        legend.remove()
    return None


MERGE_S = 1.0  # events of the same kind closer than this share one label


def bursts(items: list[tuple[float, str, str]], within: float = MERGE_S) -> list[tuple[float, str, list[int]]]:
    """(t, host, what) events -> (first t, "host1, host2: what", indices of its events in
    `items`) for each run of the same `what` whose events are less than `within` s apart."""
    out: list[tuple[float, str, list[str], float, list[int]]] = []  # (first t, what, hosts, last t, members)
    for i in sorted(range(len(items)), key=lambda i: items[i]):
        t, host, what = items[i]
        for n, (first, w, hosts, last, members) in enumerate(out):
            if w == what and t - last < within:
                out[n] = (first, w, hosts if host in hosts else [*hosts, host], t, [*members, i])
                break
        else:
            out.append((t, what, [host], t, [i]))
    return [(first, f"{', '.join(hosts)}: {what}", members) for first, what, hosts, _, members in out]


def merged(items: list[tuple[float, str, str]], within: float = MERGE_S) -> list[tuple[float, str]]:
    """(t, host, what) events -> one label per run of the same `what` whose events are
    less than `within` s apart: (first t, "host1, host2: what"). Eight checker lines for
    two directors become "lvs1, lvs2: .111:80 DOWN" once per change, readable at any
    event density."""
    return [(t, label) for t, label, _ in bursts(items, within)]


def _short(address: str) -> str:
    """192.168.56.111:80 -> .111:80 (the lane already names the subnet)."""
    return "." + address.rsplit(".", 1)[1] if address.count(".") == 3 else address


def _events(ax: Any, lane: _Lane, run: Run, vip: str, zero: float) -> None:
    """VIP add/remove for this lane's VIP and IPVS changes naming it (as real or virtual
    server): a thin line each up to its label, one label per burst of the same change
    (`bursts`)."""
    ends = run.of_kind("end")  # bring-up's and teardown's events are not part of the story
    until = ends[0]["t"] if ends else float("inf")
    since = run.requests[0].send_t if run.requests else float("-inf")
    adds = [(e["t"] - zero, e["host"], e["action"]) for e in run.of_kind("addr")
            if e["address"] == vip and since <= e["t"] < until]
    checks = [(e["t"] - zero, e["host"], f"{_short(e['real_server'])} {e['state']}") for e in run.of_kind("ipvs")
              if vip in (e["real_server"].split(":")[0], e["virtual_server"].split(":")[0]) and since <= e["t"] < until]
    lines = [ax.plot([t, t], [0, 1], lw=1, ls=":", color="#2ca02c" if action == "add" else "#8c564b",
                     label="VIP added" if action == "add" else "VIP removed")[0] for t, _, action in adds]
    for t, label, members in bursts(adds):
        lane.labels.append(_Label(t, label, 3, [lines[i] for i in members], fontsize=8))
    lines = [ax.plot([t, t], [0, 1], lw=1, ls="--", color="grey", label="IPVS change")[0] for t, _, _ in checks]
    for t, label, members in bursts(checks):
        lane.labels.append(_Label(t, label, 4, [lines[i] for i in members], fontsize=8, color="dimgrey"))


def _arp(ax: Any, lane: _Lane, run: Run, vip: str, zero: float) -> None:
    """A band above the ticks: whose MAC the client's ARP entry for `vip` held, labelled at
    each change (a yielded host's MAC here while requests fail is stale ARP)."""
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
        ax.plot([t, nxt[0]], [lane.arp, lane.arp], lw=5, solid_capstyle="butt",
                color=SERVER_COLOURS[(hosts.index(host) + 4) % len(SERVER_COLOURS)], label=f"client's ARP entry: {host}")
    # one label per burst: a client flipping between two masters' GARPs reads "ARP: lvs1, lvs2"
    for t, label in merged([(t, host, "ARP") for t, host in changes]):
        hosts_part, _ = label.rsplit(": ", 1)
        lane.labels.append(_Label(t, f"ARP: {hosts_part}", 0, fontsize=8))


def _phases(ax: Any, lane: _Lane, summary: dict[str, Any], vip: str, zero: float) -> None:
    """Per phase: the model's windows with the measured times (a band and a marker, one
    label each), the clients-whole bounds (a dashed line up to its label), the error
    window (shaded, its failed requests on the top row)."""
    for p in summary.get("phases", []):
        t0 = p["t"] - zero
        c = p["clients"].get(vip)
        if c and c["error_window"]:
            ew = c["error_window"]
            end = p["end"] if c["ongoing"] and "end" in p else ew["end"]
            ax.axvspan(ew["start"] - zero, end - zero, color=FAILED, alpha=0.15, lw=0, label="error window")
            text = (f"{c['failed']} of {c['requests']} failed over {ew['span_s']:.2f} s ({ew['failure_rate']:.0%})"
                    + (", still failing" if c["ongoing"] else ""))
            lane.labels.append(_Label(ew["start"] - zero, text, 5, fontsize=9, color=FAILED, fontweight="bold"))
        for e in p["expectations"]:
            drawn = described(e).timeline
            if e.get("vip") != vip or not e.get("model") or not drawn:
                continue
            m = e["model"]
            what = e["what"].removeprefix(f"{vip} ")  # the lane names the VIP
            if drawn == "bound":  # the bound only: the error window shows the rest
                if m["latest_s"] is None:
                    continue
                missed = e["verdict"] == "fail"
                line = ax.plot([t0 + m["latest_s"]] * 2, [0, 1], lw=1.5, ls="--", color=FAILED if missed else "#2ca02c",
                               label="clients whole by (model): missed" if missed else "clients whole by (model)")[0]
                lane.labels.append(_Label(t0 + m["latest_s"], f"clients whole by {m['latest_s']:.2f} s: {e['verdict']}",
                                          2, [line], fontsize=8, color=FAILED if missed else "#2ca02c"))
                continue
            text = f"{what}: model {_window_text(m)}"
            x = t0 + (m["earliest_s"] or 0.0)
            if m.get("earliest_s") is not None and m.get("latest_s") is not None:
                ax.fill_between([t0 + m["earliest_s"], t0 + m["latest_s"]], *lane.model, color="#2ca02c", alpha=0.35, lw=0,
                                label="model window")
            if e.get("measured_s") is not None:
                ax.plot([t0 + e["measured_s"]], [sum(lane.model) / 2], ls="", marker="v", ms=9, color="black",
                        label="measured")
                text = f"{what}: {e['measured_s']:.2f} s (model {_window_text(m)})"
                x = min(x, t0 + e["measured_s"])
            lane.labels.append(_Label(x, text, 1, fontsize=9))


def _window_text(m: dict[str, Any]) -> str:
    lo, hi = m.get("earliest_s"), m.get("latest_s")
    return f"{lo or 0:.2f}-" + ("" if hi is None else f"{hi:.2f} s")


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
    _grouped(bottom, [(f"{s.rsplit('.', 1)[1]}\n{p}", dist[p]["by_source"].get(s, {})) for s in sources for p in periods],
             servers)
    bottom.set_title("per client address (last octet)")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    renderer = FigureCanvasAgg(fig).get_renderer()
    for ax in (top, bottom):  # whole phase names; turned upright where they would run into each other
        boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels()]
        if any(a.overlaps(b) for a, b in zip(boxes, boxes[1:])):
            for t in ax.get_xticklabels():
                t.set_rotation(90)
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


def aligned(runs: list[tuple[str, Run]], heading: str | None = None) -> Figure:
    """Timelines of several runs, each aligned at its first fault, one band per run; titled
    `heading` (else the runs' labels), every line named in the legend below."""
    vips = sorted({r.vip for _, run in runs for r in run.requests})
    fig = Figure(figsize=(14, 2.4 * max(len(vips), 1) + 1.6))
    renderer = FigureCanvasAgg(fig).get_renderer()  # to measure the legend and the title
    axes = fig.subplots(len(vips) or 1, 1, sharex=True, squeeze=False)
    for ax, vip in zip(axes[:, 0], vips):
        for n, (label, run) in enumerate(runs):
            colour = SERVER_COLOURS[n % len(SERVER_COLOURS)]
            faults = run.of_kind("fault")
            zero = faults[0]["t"] if faults else 0.0
            y = 1.0 - (n + 0.5) / len(runs)
            mine = [r for r in run.requests if r.vip == vip]
            ax.scatter([r.send_t - zero for r in mine if r.ok], [y] * sum(r.ok for r in mine), marker="|", s=90,
                       color=colour, label=f"{label}: answered")
            bad = [r.send_t - zero for r in mine if not r.ok]
            if bad:
                ax.scatter(bad, [y - 0.08] * len(bad), marker="x", s=25, color=FAILED, label="failed request")
            for f in faults:  # every run's first fault is at 0; where each healed is its own
                first = f is faults[0]
                ax.axvline(f["t"] - zero, color="black" if first else colour, lw=1.5, ls="-" if first else "--",
                           label=f"fault injected ({'each run at 0' if len(runs) > 1 else 'at 0'})" if first
                           else f"{label}: {f['action']}")
        ax.set_ylim(0, 1)
        ax.set_yticks([1.0 - (n + 0.5) / len(runs) for n in range(len(runs))])
        ax.set_yticklabels([label for label, _ in runs], fontsize=10)
        ax.set_title(vip, loc="left", fontsize=11)
    axes[-1, 0].set_xlabel("seconds from each run's fault")
    fig.suptitle(heading or " vs ".join(label for label, _ in runs), fontsize=13)
    handles: dict[str, Any] = {}
    for ax in axes[:, 0]:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    bottom = 0.02
    if handles:
        legend = fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=min(len(handles), 4), fontsize=9,
                            bbox_to_anchor=(fig.get_figwidth() / 2, 14.0 / 72.0), bbox_transform=fig.dpi_scale_trans)
        bottom = (legend.get_window_extent(renderer).height + 14.0 * fig.dpi / 72.0) / fig.bbox.height + 0.01
    fig.tight_layout(rect=(0, bottom, 1, 1))  # the title's room is tight_layout's
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
