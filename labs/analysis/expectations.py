"""What a scenario expects, one class per kind: each evaluates itself against the files of
one phase and describes its own table cells.

A scenario's `expect(model, target)` returns these; the analysis evaluates each against
the phase it names ("inject" or "heal"). Every window comes from the model (labs.analysis
.model), which computes it from the configuration files the run used.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

from labs.common import jsonfile
from labs.analysis import clients
from labs.analysis.data import Request, Run

LATENCY = 0.25  # see labs.analysis.model: signal delivery, event loops, the probe's grid


@dataclass(frozen=True)
class Window:
    earliest: float
    latest: float
    basis: str

    def holds(self, value: float) -> bool:
        return self.earliest <= value <= self.latest

    def widened(self, seconds: float) -> "Window":
        """The same window for a fault that took `seconds` to apply: its effect began
        somewhere in that span after the recorded time."""
        if not seconds:
            return self
        return Window(self.earliest, self.latest + seconds, f"{self.basis}; +{seconds:.3f} s to apply the fault")

    def shifted(self, seconds: float, why: str) -> "Window":
        """The same window counted from `seconds` after the phase started."""
        return Window(self.earliest + seconds, self.latest + seconds, f"{self.basis}, from {seconds:g} s ({why})")

    @property
    def bounded(self) -> bool:
        """False for "no bound until the phase ends" (the model can say nothing tighter)."""
        return math.isfinite(self.latest)

    def to_dict(self) -> dict[str, Any]:
        """Exact, for expectations.json (`latest_s` null: unbounded); as_json's names."""
        return {"earliest_s": self.earliest, "latest_s": self.latest if self.bounded else None, "basis": self.basis}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Window":
        """The inverse of to_dict; also reads `earliest`/`latest` (before schema_version 3)."""
        earliest, latest = (d["earliest_s"], d["latest_s"]) if "earliest_s" in d else (d["earliest"], d["latest"])
        return cls(earliest, math.inf if latest is None else latest, d["basis"])

    def as_json(self) -> dict[str, Any]:
        return {"earliest_s": round(self.earliest, 3), "latest_s": round(self.latest, 3) if self.bounded else None,
                "basis": self.basis}


@dataclass
class Phase:
    """The files of one phase: events and requests in [t0, t1), as the expectations see them.
    A request belongs to the phase of its *scheduled* time and counts only if its client
    address is one the probe was using in that phase (a restarted probe's last requests
    from other addresses are not this phase's)."""

    run: Run
    name: str
    t0: float
    t1: float
    applied_in: float = 0.0

    def __post_init__(self) -> None:
        self.sources = probe_sources(self.run, self.t1)
        self.requests = clients.select(self.run.requests, self.t0, self.t1, self.sources)
        self.pins = clients.pinned(self.run.requests, self.t0)

    def first(self, kind: str, **match: Any) -> dict[str, Any] | None:
        for e in self.run.of_kind(kind):
            if self.t0 <= e["t"] < self.t1 and all(e.get(k) == v for k, v in match.items()):
                return e
        return None

    def holders_at(self, vip: str, t: float) -> set[str]:
        return holders_at(self.run, vip, t)

    def duplicate_s(self, vip: str) -> float:
        return duplicate_s(self.run, vip, self.t0, self.t1)

    def anchored(self, window: Window, host: str, out: dict[str, Any]) -> Window | None:
        """`window` counted from the first VRRP notification of `host`'s restarted keepalived
        (how long a daemon takes to start is measured, not guessed); None if it never started."""
        started = self.first("vrrp", host=host)
        if started is None:
            out["verdict"], out["reason"] = "fail", f"keepalived on {host} never started"
            return None
        offset = started["t"] - self.t0
        out["restart_s"] = round(offset, 4)
        # The anchor is an observed time too: allow it the same latency both ways.
        return Window(max(0.0, window.earliest + offset - LATENCY), window.latest + offset,
                      f"{window.basis}, after keepalived on {host} started ({offset:.3f} s)")


def probe_sources(run: Run, before: float) -> frozenset[str] | None:
    """Client addresses of the probe last started before `before` (None: no record, all)."""
    starts = [e for e in run.of_kind("probe") if e.get("action") == "start" and e["t"] < before]
    return frozenset(starts[-1]["sources"]) if starts else None


def _held(e: dict[str, Any], vip: str) -> bool:
    """An address event about `vip` on an interface that answers for it (not loopback,
    where DR real servers keep the LVS VIPs without holding them)."""
    return e["address"] == vip and e.get("ifname") != "lo"


def holders_at(run: Run, vip: str, t: float) -> set[str]:
    """Hosts holding `vip` at time t, replaying the address events."""
    held: set[str] = set()
    for e in run.of_kind("addr"):
        if e["t"] > t:
            break
        if _held(e, vip):
            (held.add if e["action"] == "add" else held.discard)(e["host"])
    return held


def down_at(run: Run, host: str, vip: str, t: float) -> tuple[set[str], set[str]]:
    """(real servers of `vip`'s virtual server the lab has seen, those `host`'s checkers
    had marked DOWN at time t), replaying the checkers' "ipvs" events (the lab starts
    converged: every real server UP on every director)."""
    known: set[str] = set()
    down: set[str] = set()
    for e in run.of_kind("ipvs"):
        if not e.get("virtual_server", "").startswith(f"{vip}:"):
            continue
        known.add(e["real_server"])
        if e["host"] == host and e["t"] <= t:
            (down.add if e["state"] == "DOWN" else down.discard)(e["real_server"])
    return known, down


def became_sole_holder(ph: "Phase", vip: str, host: str) -> float | None:
    """When in the phase `host` became the only host holding `vip` (clients then reach it
    alone), or None if it never did."""
    if ph.holders_at(vip, ph.t0) == {host}:
        return ph.t0
    for e in ph.run.of_kind("addr"):
        if ph.t0 <= e["t"] < ph.t1 and _held(e, vip) and holders_at(ph.run, vip, e["t"]) == {host}:
            return e["t"]
    return None


def duplicate_s(run: Run, vip: str, t0: float, t1: float) -> float:
    """Seconds within [t0, t1) during which more than one host held `vip`."""
    held = holders_at(run, vip, t0)
    total, since = 0.0, t0 if len(held) > 1 else None
    for e in run.of_kind("addr"):
        if not t0 <= e["t"] < t1 or not _held(e, vip):
            continue
        (held.add if e["action"] == "add" else held.discard)(e["host"])
        if len(held) > 1 and since is None:
            since = e["t"]
        elif len(held) <= 1 and since is not None:
            total, since = total + e["t"] - since, None
    if since is not None:
        total += t1 - since
    return round(total, 4)


def judge(out: dict[str, Any], window: Window | None, measured: float | None, what: str, ph: Phase) -> dict[str, Any]:
    """Record the measured time and the model's window; fail outside it (unless a verdict
    was already given)."""
    out["measured_s"] = None if measured is None else round(measured, 4)
    if window is not None:
        out["model"] = window.as_json()
    if "verdict" in out:
        return out
    if measured is None:
        out["verdict"], out["reason"] = "fail", f"{what} never happened (observed {ph.t1 - ph.t0:.1f} s)"
    elif window is not None and not window.holds(measured):
        out["verdict"] = "fail"
        out["reason"] = (f"{what} after {measured:.3f} s, outside the model's [{window.earliest:.3f}, "
                         f"{window.latest:.3f}] s ({window.basis})")
    else:
        out["verdict"], out["reason"] = "pass", "inside the model window"
    return out


def seconds(value: float | None) -> str:
    """A time for the tables: 0.70s, or - when there is none."""
    return "-" if value is None else f"{value:.2f}s"


@dataclass(frozen=True)
class Expectation:
    """Base of every kind: the phase it belongs to, and what tables and charts make of its
    evaluated result. They read summary.json, so they look a result's kind up by name
    (`described`) and ask it rather than list kinds of their own."""

    phase: str
    kind: ClassVar[str] = ""
    # measured_s is a time from the phase's start, when the awaited thing happened: the
    # spread chart plots it in seconds, compare prints it as seconds.
    timed: ClassVar[bool] = True
    # The name of its one figure, `value(result)`, in compare and in the repeat table's
    # spread ("" for none).
    figure: ClassVar[str] = "measured_s"
    # On the timeline: "window" (the model's window as a band and the measured time),
    # "bound" (the model's latest time only), "" (nothing).
    timeline: ClassVar[str] = "window"
    # Its row carries its VIP's client figures (failed/sent, error window; the repeat
    # table's failed_requests).
    client_figures: ClassVar[bool] = False

    def evaluate(self, ph: Phase) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def observe_until(self) -> float:
        """How long after the phase starts the model expects something to happen (0: nothing timed)."""
        window = getattr(self, "window", None)
        return window.latest if window is not None and window.bounded else 0.0

    @staticmethod
    def value(result: dict[str, Any]) -> float | int | None:
        """Its figure in an evaluated result (None: none, or not measured)."""
        return result.get("measured_s")

    @staticmethod
    def cells(result: dict[str, Any]) -> tuple[str, str]:
        """(model window, measured) of an evaluated result, as the tables show them."""
        m = result.get("model")
        return (f"{m['earliest_s']:.2f}-{m['latest_s']:.2f}s" if m else "-"), seconds(result.get("measured_s"))


@dataclass(frozen=True)
class Move(Expectation):
    """A VIP moves from one host to another within the window. With `after_restart_of`,
    the window counts from that host's restarted keepalived's first VRRP notification."""

    instance: str = ""
    vip: str = ""
    from_host: str = ""
    to_host: str = ""
    window: Window = Window(0, 0, "")
    after_restart_of: str = ""
    kind: ClassVar[str] = "move"

    def evaluate(self, ph: Phase) -> dict[str, Any]:
        at_start = ph.holders_at(self.vip, ph.t0)
        added = ph.first("addr", address=self.vip, host=self.to_host, action="add")
        master = ph.first("vrrp", instance=self.instance, host=self.to_host, state="MASTER")
        removed = ph.first("addr", address=self.vip, host=self.from_host, action="del")
        out: dict[str, Any] = {
            "kind": self.kind, "what": f"{self.vip} {self.from_host}->{self.to_host}", "vip": self.vip,
            "instance": self.instance, "from": self.from_host, "to": self.to_host, "holders_at_start": sorted(at_start),
            "master_notify_s": round(master["t"] - ph.t0, 4) if master else None,
            "vip_removed_from_old_s": round(removed["t"] - ph.t0, 4) if removed else None,
            "duplicate_s": ph.duplicate_s(self.vip),
        }
        window: Window | None = self.window.widened(ph.applied_in)
        if self.after_restart_of:
            window = ph.anchored(window, self.after_restart_of, out)
        if self.from_host not in at_start:
            out["verdict"] = "fail"
            out["reason"] = (f"at the start {self.vip} was on {sorted(at_start) or 'no host'}, not {self.from_host}: "
                             "the lab had not converged")
        return judge(out, window, added and added["t"] - ph.t0, f"{self.vip} up on {self.to_host}", ph)


@dataclass(frozen=True)
class Release(Expectation):
    """A host that held a VIP it should not (a duplicate) gives it up within the window."""

    instance: str = ""
    vip: str = ""
    host: str = ""
    window: Window = Window(0, 0, "")
    kind: ClassVar[str] = "release"

    def evaluate(self, ph: Phase) -> dict[str, Any]:
        gone = ph.first("addr", address=self.vip, host=self.host, action="del")
        out: dict[str, Any] = {"kind": self.kind, "what": f"{self.vip} released by {self.host}", "vip": self.vip,
                               "host": self.host, "duplicate_s": ph.duplicate_s(self.vip)}
        if self.host not in ph.holders_at(self.vip, ph.t0):
            out["verdict"], out["reason"] = "fail", f"{self.host} did not hold {self.vip} at the start"
        return judge(out, self.window.widened(ph.applied_in), gone and gone["t"] - ph.t0,
                     f"{self.vip} released by {self.host}", ph)


@dataclass(frozen=True)
class Stay(Expectation):
    """A VIP stays on its host for the whole phase. `until`: when the move it rules out
    would have come at the latest (the phase is observed past it, so that a stay is seen,
    not assumed, however short the fault)."""

    instance: str = ""
    vip: str = ""
    host: str = ""
    until: Window | None = None
    kind: ClassVar[str] = "stay"
    timed, figure, timeline = False, "", ""  # nothing happens: measured_s is a placeholder 0.0

    @property
    def observe_until(self) -> float:
        return self.until.latest if self.until is not None and self.until.bounded else 0.0

    def evaluate(self, ph: Phase) -> dict[str, Any]:
        moved = [e for e in ph.run.of_kind("addr") if ph.t0 <= e["t"] < ph.t1 and e["address"] == self.vip
                 and (e["host"] != self.host) == (e["action"] == "add")]
        out: dict[str, Any] = {"kind": self.kind, "what": f"{self.vip} stays on {self.host}", "vip": self.vip,
                               "host": self.host}
        if self.host not in ph.holders_at(self.vip, ph.t0):
            out["verdict"], out["reason"] = "fail", f"{self.vip} was not on {self.host} at the start"
        elif moved:
            e = moved[0]
            out["verdict"] = "fail"
            how = "appeared on" if e["action"] == "add" else "left"
            out["reason"] = f"{self.vip} {how} {e['host']} after {e['t'] - ph.t0:.3f} s"
        else:
            out["verdict"], out["reason"] = "pass", "did not move"
        return judge(out, None, 0.0, "", ph)

    @staticmethod
    def value(result: dict[str, Any]) -> float | int | None:
        return None

    @staticmethod
    def cells(result: dict[str, Any]) -> tuple[str, str]:
        return "-", "-"


@dataclass(frozen=True)
class Moves(Expectation):
    """A VIP arrives on `to_host` exactly `count` times during the phase (flapping), or —
    with `at_most` — between `count` and `at_most` times (a count the model gives as an
    interval, e.g. false failovers on a lossy link; `basis` says how)."""

    vip: str = ""
    to_host: str = ""
    count: int = 0
    at_most: int | None = None
    basis: str = ""
    kind: ClassVar[str] = "moves"
    timed, figure, timeline = False, "count", ""  # measured_s is the last arrival's time, not what is judged

    def evaluate(self, ph: Phase) -> dict[str, Any]:
        arrivals = [e for e in ph.run.of_kind("addr") if ph.t0 <= e["t"] < ph.t1 and e["address"] == self.vip
                    and e["host"] == self.to_host and e["action"] == "add"]
        out: dict[str, Any] = {"kind": self.kind, "what": f"{self.vip} arrivals on {self.to_host}", "vip": self.vip,
                               "count": len(arrivals), "expected_count": self.count, "at_most": self.at_most,
                               "at_s": [round(e["t"] - ph.t0, 3) for e in arrivals], "duplicate_s": ph.duplicate_s(self.vip)}
        top = self.count if self.at_most is None else self.at_most
        expected = f"{self.count}" if top == self.count else f"{self.count} to {top}"
        out["verdict"] = "pass" if self.count <= len(arrivals) <= top else "fail"
        out["reason"] = (f"{len(arrivals)} arrival(s) of {self.vip} on {self.to_host}, the model expects {expected}"
                         + (f" ({self.basis})" if self.basis else ""))
        if self.basis:
            out["model"] = {"earliest_s": None, "latest_s": None, "basis": self.basis}
        return judge(out, None, None if not arrivals else arrivals[-1]["t"] - ph.t0, "", ph)

    @staticmethod
    def value(result: dict[str, Any]) -> float | int | None:
        return result.get("count")

    @staticmethod
    def cells(result: dict[str, Any]) -> tuple[str, str]:
        top = result.get("at_most")
        expected = f"{result['expected_count']}x" if top is None else f"{result['expected_count']}-{top}x"
        return expected, f"{result['count']}x"


@dataclass(frozen=True)
class Checker(Expectation):
    """Every director's checker marks a real server DOWN (or UP) within the window."""

    real_server: str = ""
    state: str = ""
    directors: tuple[str, ...] = ()
    window: Window = Window(0, 0, "")
    kind: ClassVar[str] = "checker"

    def evaluate(self, ph: Phase) -> dict[str, Any]:
        times = []
        for d in self.directors:
            e = ph.first("ipvs", host=d, real_server=self.real_server, state=self.state)
            times.append(None if e is None else e["t"] - ph.t0)
        out: dict[str, Any] = {"kind": self.kind, "what": f"{self.real_server} {self.state} on {','.join(self.directors)}",
                               "vip": self.real_server.split(":")[0],
                               "per_director_s": dict(zip(self.directors, [None if t is None else round(t, 4) for t in times]))}
        measured = None if None in times else max(t for t in times if t is not None)
        return judge(out, self.window.widened(ph.applied_in), measured,
                     f"{self.real_server} {self.state} on every director", ph)


@dataclass(frozen=True)
class Share(Expectation):
    """The busiest real server's share of a VIP's answers during the phase."""

    vip: str = ""
    window: Window = Window(0, 0, "")
    kind: ClassVar[str] = "share"
    timed, figure, timeline = False, "share", ""  # measured_s and its window are fractions, not times

    @property
    def observe_until(self) -> float:
        return 0.0  # a fraction, not a time

    def evaluate(self, ph: Phase) -> dict[str, Any]:
        answers = clients.distribution(ph.requests, ph.t0, ph.t1)["by_vip"].get(self.vip, {})
        total = sum(answers.values())
        share = max(answers.values()) / total if total else None
        out = {"kind": self.kind, "what": f"{self.vip} busiest server's share", "vip": self.vip, "answers": answers}
        return judge(out, self.window, share, f"answers on {self.vip}", ph)

    @staticmethod
    def cells(result: dict[str, Any]) -> tuple[str, str]:
        m, value = result.get("model"), result.get("measured_s")
        return f"{m['earliest_s']:.0%}-{m['latest_s']:.0%}", "-" if value is None else f"{value:.0%}"


@dataclass(frozen=True)
class Clients(Expectation):
    """Clients of an LVS VIP are whole again within the window: the last failed request
    (by send time, from the phase's start) comes no later than the model's bound, and the
    phase does not end with clients still failing (unless the model bounds nothing in this
    phase: then the next phase's expectation judges whether they were whole again).
    Failures are counted, never hidden in a longest gap: a partial outage (only the
    clients pinned to one server) counts in full."""

    vip: str = ""
    window: Window = Window(0, 0, "")
    after_restart_of: str = ""
    judged: bool = True  # False: the model predicts nothing for them here; measured, reported, not judged
    kind: ClassVar[str] = "clients"
    timeline, client_figures = "bound", True  # the error window, drawn from the client figures, shows the rest

    def evaluate(self, ph: Phase) -> dict[str, Any]:
        mine = [r for r in ph.requests if r.vip == self.vip]
        failed = [r for r in mine if not r.ok]
        ongoing = bool(mine) and not mine[-1].ok
        whole = failed[-1].send_t - ph.t0 if failed else 0.0
        out: dict[str, Any] = {"kind": self.kind, "what": f"{self.vip} clients whole again", "vip": self.vip,
                               "requests": len(mine), "failed": len(failed), "still_failing_at_end": ongoing}
        window: Window | None = self.window.widened(ph.applied_in)
        if self.after_restart_of:
            anchored = ph.anchored(window, self.after_restart_of, out)
            window = anchored and Window(0.0, anchored.latest, anchored.basis)  # whole again: any time up to the bound
        cause = stale_arp(ph, self.vip, failed) or empty_table(ph, self.vip, failed)
        if cause:
            out["stale_arp"] = cause
        why = f"; {cause['text']}" if cause else ""
        if not self.judged:
            out["verdict"] = "measured"
            out["reason"] = f"{self.vip}: {len(failed)} of {len(mine)} requests failed (measured only: {self.window.basis})"
        elif "verdict" not in out and not mine:
            out["verdict"], out["reason"] = "fail", f"{self.vip}: no request was sent in the {ph.name} phase"
        elif "verdict" not in out and ongoing and not (window is not None and math.isinf(window.latest)):
            # An unbounded window (two masters: clients move at every GARP refresh until one
            # yields) allows failures up to the phase's end; the next phase judges recovery.
            out["verdict"] = "fail"
            out["reason"] = (f"{self.vip}: {len(failed)} of {len(mine)} requests failed, still failing at the end "
                             f"({ph.t1 - ph.t0:.1f} s after the {ph.name}){why}")
        elif "verdict" not in out and window is not None and whole > window.latest:
            out["verdict"] = "fail"
            out["reason"] = (f"{self.vip}: {len(failed)} of {len(mine)} requests failed, the last {whole:.2f} s after the "
                             f"{ph.name}, past the model's {window.latest:.2f} s ({window.basis}){why}")
        return judge(out, window, whole, "", ph)

    @staticmethod
    def cells(result: dict[str, Any]) -> tuple[str, str]:
        m = result.get("model")
        window = "-" if not m else "until the end" if m["latest_s"] is None else f"<={m['latest_s']:.2f}s"
        if result["still_failing_at_end"]:
            return window, "still failing"
        return window, "no failures" if not result["failed"] else seconds(result.get("measured_s"))


@dataclass(frozen=True)
class Ready(Expectation):
    """A director coming back takes its VIP only once its checkers have real servers again.
    Cut off from them (its link down, its traffic dropped) for longer than its checkers
    take to remove them (`removed_after` s after the fault), it comes back with an empty
    IPVS table, which its checkers refill within `ready` after the heal: becoming the VIP's
    only holder sooner (`takeover`, from the model) sends clients to no real server. The
    verdict follows the configuration, not the luck of the checkers' phase: where the model
    lets the takeover come first, the design fails whatever this run's timing did, and the
    reason says what happened this time."""

    host: str = ""
    instance: str = ""
    vip: str = ""
    removed_after: float = 0.0
    ready: Window = Window(0, 0, "")
    takeover: Window = Window(0, 0, "")
    kind: ClassVar[str] = "ready"
    timeline = ""  # its time is judged against two windows, not drawn as one

    @property
    def observe_until(self) -> float:
        return max(self.ready.latest, self.takeover.latest)

    def evaluate(self, ph: Phase) -> dict[str, Any]:
        injected = [f["t"] for f in ph.run.of_kind("fault") if f["action"] == "inject" and f["t"] < ph.t0]
        fault_s = ph.t0 - injected[-1] if injected else 0.0
        out: dict[str, Any] = {"kind": self.kind, "what": f"{self.host}'s IPVS table ready when it takes {self.vip}",
                               "fault_s": round(fault_s, 3)}
        taken = became_sole_holder(ph, self.vip, self.host)
        known, down = down_at(ph.run, self.host, self.vip, taken if taken is not None else ph.t1)
        empty = bool(known) and down >= known
        back = sorted(e["t"] - ph.t0 for e in ph.run.of_kind("ipvs") if e["host"] == self.host and e["state"] == "UP"
                      and e.get("virtual_server", "").startswith(f"{self.vip}:") and ph.t0 <= e["t"] < ph.t1)
        if taken is None:
            this_time = f"; this time it did not take {self.vip} back"
        elif empty:
            this_time = (f"; this time it took it {taken - ph.t0:.2f} s after the heal with no real server in its table"
                         + (f" (its checkers re-added the first {back[0]:.2f} s after the heal)" if back else ""))
        elif known:
            this_time = (f"; this time it took it {taken - ph.t0:.2f} s after the heal with "
                         f"{len(known - down)} of {len(known)} real servers back")
        else:
            this_time = f"; this time it took it {taken - ph.t0:.2f} s after the heal, no checker change recorded"
        fix = (f"preempt_delay of at least {self.ready.latest:.1f} s on the directors (keepalived ignores it with "
               "state MASTER: give every director state BACKUP), as `--variant ready_checkers` does")
        if empty and (fault_s < self.removed_after + LATENCY or self.takeover.earliest >= self.ready.latest):
            out["verdict"] = "fail"
            out["reason"] = f"{self.host} took {self.vip} with an empty IPVS table, which the model rules out{this_time}"
        elif fault_s < self.removed_after + LATENCY:  # the latency: a fault of about that length is no risk yet
            out["verdict"] = "pass"
            out["reason"] = (f"the fault lasted {fault_s:.1f} s, less than the {self.removed_after:.1f} s {self.host}'s "
                             f"checkers need to remove a real server{this_time}")
        elif self.takeover.earliest < self.ready.latest:
            out["verdict"] = "fail"
            out["reason"] = (f"{self.host} can take {self.vip} back {self.takeover.earliest:.2f}-{self.takeover.latest:.2f} "
                             f"s after the heal ({self.takeover.basis}), before its checkers re-add the real servers "
                             f"they removed during the {fault_s:.0f} s fault ({self.ready.basis}): clients may be sent "
                             f"to an empty IPVS table{this_time}; fix: {fix}")
        else:
            out["verdict"] = "pass"
            out["reason"] = f"{self.host} waits for its checkers ({self.takeover.basis}){this_time}"
        return judge(out, None, None if taken is None else taken - ph.t0, f"{self.host} taking {self.vip}", ph)

    @staticmethod
    def cells(result: dict[str, Any]) -> tuple[str, str]:
        return "table ready", "-" if result.get("measured_s") is None else seconds(result["measured_s"])


@dataclass(frozen=True)
class Connections(Expectation):
    """The long-lived connections through an LVS VIP (labs.probes.connections) that were
    alive at the phase's start: all of those at least `older_than` seconds old then survive
    it (`fate` "survive"), or all of them break ("break"), or the model says nothing
    ("measured"). Younger ones are reported, never judged: a stall is reported too (how
    long a survivor went without an answer), never judged."""

    vip: str = ""
    fate: str = "measured"
    older_than: float = 0.0
    basis: str = ""
    observe_s: float = 0.0  # observe the phase at least this long: the fates need it
    kind: ClassVar[str] = "connections"
    timed, figure, timeline = False, "", ""  # fates and counts, no one figure (measured_s is None)

    @property
    def observe_until(self) -> float:
        return self.observe_s

    def evaluate(self, ph: Phase) -> dict[str, Any]:
        from labs.analysis import connections  # a cycle at module level: it imports LATENCY from here

        stall = connections.stall_s(ph.run)
        fates = [c.fate(ph.t0, ph.t1, stall) for c in connections.read(ph.run.folder) if c.vip == self.vip]
        snapshots = {e["host"]: (e["t"], {" ".join(c.split()[:2]) for c in e["conns"]})
                     for e in ph.run.of_kind("ipvs_conns") if e["t"] < ph.t0}
        for f in fates:  # which directors had an IPVS entry for it just before the phase
            if snapshots and f.get("port"):
                key = f"{f['source']}:{f['port']} {self.vip}:"
                f["known_by"] = sorted(h for h, (_, entries) in snapshots.items()
                                       if any(e.startswith(key) for e in entries))
        alive = [f for f in fates if f["fate"] in ("survived", "stalled", "broke")]
        judged = [f for f in alive if f["age_s"] >= self.older_than]
        broke = [f for f in alive if f["fate"] == "broke"]
        errors: dict[str, int] = {}
        for f in broke:
            errors[f["error"]] = errors.get(f["error"], 0) + 1
        gaps = [f["max_gap_s"] for f in alive if f["fate"] != "broke"]
        out: dict[str, Any] = {
            "kind": self.kind, "what": f"{self.vip} connections", "vip": self.vip, "expected": self.fate,
            "older_than_s": round(self.older_than, 3), "alive": len(alive), "judged": len(judged),
            "survived": len(alive) - len(broke), "stalled": sum(f["fate"] == "stalled" for f in alive),
            "broke": len(broke), "errors": errors, "max_stall_s": max(gaps, default=None),
            "by_age": connections.by_age(fates), "connections": fates, "measured_s": None,
            "snapshot_before_s": {h: round(ph.t0 - t, 3) for h, (t, _) in sorted(snapshots.items())},
            "model": {"earliest_s": None, "latest_s": None, "basis": self.basis},
        }
        counts = (f"{out['survived']} of {len(alive)} survived ({out['stalled']} stalled), {len(broke)} broke"
                  + (f" ({', '.join(f'{n} {e}' for e, n in sorted(errors.items()))})" if errors else ""))
        wrong = [f for f in judged if (f["fate"] == "broke") != (self.fate == "break")]
        older = f" at least {self.older_than:.2f} s old" if self.older_than else ""
        if self.fate == "measured":
            out["verdict"], out["reason"] = "measured", f"{self.vip}: {counts} (measured only: {self.basis})"
        elif not alive:
            out["verdict"], out["reason"] = "fail", f"{self.vip}: no probe connection was open at the {ph.name}"
        elif wrong:
            out["verdict"] = "fail"
            out["reason"] = (f"{self.vip}: {len(wrong)} of {len(judged)} connections{older} at the {ph.name} "
                             f"{'survived' if self.fate == 'break' else 'broke'}, the model expects all to "
                             f"{self.fate} ({self.basis}); {counts}")
        else:
            out["verdict"] = "pass"
            out["reason"] = f"{self.vip}: all {len(judged)} connections{older} {self.fate}; {counts}"
        return out

    @staticmethod
    def cells(result: dict[str, Any]) -> tuple[str, str]:
        older = f" if >={result['older_than_s']:.2f}s old" if result["older_than_s"] else ""
        model = {"survive": f"survive{older}", "break": f"break{older}"}.get(result["expected"], "-")
        stalled = f", {result['stalled']} stalled" if result["stalled"] else ""
        return model, f"{result['survived']}/{result['alive']} survived{stalled}"


KINDS: dict[str, type[Expectation]] = {
    k.kind: k for k in (Move, Release, Stay, Moves, Checker, Share, Clients, Connections, Ready)}
FILE = "expectations.json"  # in a run folder: what the run expected, written when it ran
# Fields named in expectations.json as summary.json names them (before schema_version 3: as the class does)
IN_FILE = {"from_host": "from", "to_host": "to"}


def to_json(expected: Sequence[Expectation], step: int | None = None) -> list[dict[str, Any]]:
    """Every expectation as plain data: its kind and its fields (and in an interactive
    session, the `step` — which fail/heal pair — it belongs to)."""
    out = []
    for e in expected:
        fields = {f.name: getattr(e, f.name) for f in dataclasses.fields(e)}
        row = {"kind": e.kind, **{IN_FILE.get(k, k): v.to_dict() if isinstance(v, Window) else v for k, v in fields.items()}}
        out.append(row if step is None else {**row, "step": step})
    return out


def write(folder: Path, expected: Sequence[Expectation], step: int | None = None) -> None:
    """Record in a run folder what the run expects, so that the analysis reads it back; a
    session's later steps are added to what its earlier ones expected."""
    path = folder / FILE
    earlier = read(path) if step and path.exists() else []
    jsonfile.write(path, {"expectations": earlier + to_json(expected, step)})


def read(path: Path) -> list[dict[str, Any]]:
    """The rows of an expectations.json (a bare list in folders from before schema_version 2)."""
    data = json.loads(path.read_text())
    return data if isinstance(data, list) else data["expectations"]


def from_json(rows: Sequence[dict[str, Any]]) -> list[tuple[int | None, Expectation]]:
    """The inverse of `to_json`: (step or None, expectation) pairs."""
    out = []
    for row in rows:
        cls = KINDS[row["kind"]]
        of_class = {v: k for k, v in IN_FILE.items()}
        fields = {of_class.get(k, k): v for k, v in row.items() if k not in ("kind", "step")}
        for key in ("window", "ready", "takeover", "until"):
            if fields.get(key) is not None:
                fields[key] = Window.from_dict(fields[key])
        if "directors" in fields:
            fields["directors"] = tuple(fields["directors"])
        out.append((row.get("step"), cls(**fields)))
    return out


def described(result: dict[str, Any]) -> type[Expectation]:
    """The kind of an evaluated expectation (a summary.json dict), which describes how
    tables and charts show it."""
    return KINDS[result["kind"]]


def cells(result: dict[str, Any]) -> tuple[str, str]:
    """(model window, measured) of any evaluated expectation, by its recorded kind."""
    return described(result).cells(result)


def stale_arp(ph: Phase, vip: str, failed: Sequence[Request]) -> dict[str, Any] | None:
    """Did the client send `vip`'s failed requests to the MAC of a host that no longer held
    it? Replays the client's ARP entries ("neigh" events) and the hosts' MACs ("mac")
    against who held the VIP when each request failed."""
    if not failed:
        return None
    owner = {e["mac"]: e["host"] for e in ph.run.of_kind("mac") if e.get("mac")}
    client_hosts = {e["host"] for e in ph.run.of_kind("neigh")}
    if not owner or not client_hosts:
        return None
    entries = [e for e in ph.run.of_kind("neigh") if e["address"] == vip and e.get("lladdr")]
    stale: list[Request] = []
    host = ""
    for r in failed:
        mac = next((e["lladdr"] for e in reversed(entries) if e["t"] <= r.send_t), None)
        sent_to = owner.get(mac or "")
        if sent_to and sent_to not in ph.holders_at(vip, r.send_t):
            stale.append(r)
            host = sent_to
    if len(stale) * 2 < len(failed):
        return None
    released = [e["t"] for e in ph.run.of_kind("addr") if e["address"] == vip and e["host"] == host
                and e["action"] == "del" and e["t"] <= stale[0].send_t]
    since = released[-1] if released else stale[0].send_t
    span = stale[-1].send_t - since
    return {"host": host, "mac": next(m for m, h in owner.items() if h == host), "failed": len(stale),
            "released_at_s": round(since - ph.t0, 4), "span_s": round(span, 4),
            "text": f"stale ARP: clients sent {vip} to {host}'s MAC for {span:.1f} s after {host} released it"}


def empty_table(ph: Phase, vip: str, failed: Sequence[Request]) -> dict[str, Any] | None:
    """Did `vip`'s failed requests reach a director that held it with every real server
    marked DOWN by its own checkers (a director back from being cut off, before its
    checkers re-added them)?"""
    if not failed:
        return None
    hits: list[tuple[Request, str]] = []
    for r in failed:
        holders = ph.holders_at(vip, r.send_t)
        if len(holders) == 1:
            (host,) = holders
            known, down = down_at(ph.run, host, vip, r.send_t)
            if known and down >= known:
                hits.append((r, host))
    if len(hits) * 2 < len(failed):
        return None
    host = hits[-1][1]
    span = hits[-1][0].send_t - hits[0][0].send_t
    back = [e["t"] - ph.t0 for e in ph.run.of_kind("ipvs") if e["host"] == host and e["state"] == "UP"
            and e.get("virtual_server", "").startswith(f"{vip}:") and e["t"] >= hits[0][0].send_t]
    return {"host": host, "failed": len(hits), "span_s": round(span, 4),
            "text": (f"empty IPVS table: {host} held {vip} with every real server removed by its checkers for "
                     f"{span:.1f} s" + (f", until they re-added one {back[0]:.2f} s after the {ph.name}" if back else ""))}
