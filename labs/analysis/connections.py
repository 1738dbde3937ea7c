"""The connection probe's file (connections.csv, labs.probes.connections): each long-lived
connection's fate across one phase.

A connection is *alive* at a phase's start if it was opened before it and no request on it
had failed by then. Across the phase it then either *broke* (a request on it ended in an
error — reset, timeout, closed — within the phase; the probe never reopens it) or
*survived*; a survivor *stalled* if the longest time between two answers on it (counting
from its last answer before the phase) exceeded `stall_s`: the probe's interval plus twice
LATENCY. Times are the rows' finish times: an error belongs to the phase in which the
probe learnt of it.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator

from labs.analysis.data import Run
from labs.analysis.expectations import LATENCY
from labs.common.errors import LabError
from labs.probes.connections import INTERVAL

FILE = "connections.csv"


@dataclass(frozen=True)
class Row:
    conn: int
    vip: str
    source: str
    port: str
    opened_t: float | None
    sched_t: float
    send_t: float
    finish_t: float
    server: str
    status: int | None
    error: str

    @property
    def ok(self) -> bool:
        return not self.error and self.status is not None and 200 <= self.status < 400


@dataclass(frozen=True)
class Connection:
    conn: int
    vip: str
    source: str
    port: str
    opened_t: float | None  # None: it never opened (the connect failed)
    rows: tuple[Row, ...]

    def failure(self) -> Row | None:
        return next((r for r in self.rows if not r.ok), None)

    def fate(self, t0: float, t1: float, stall: float) -> dict[str, Any]:
        """What happened to it in [t0, t1), stalled if `stall` s passed without an answer:
        see the module docstring."""
        out: dict[str, Any] = {"conn": self.conn, "vip": self.vip, "source": self.source, "port": self.port,
                               "age_s": None if self.opened_t is None else round(t0 - self.opened_t, 3)}
        failed = self.failure()
        if self.opened_t is None or self.opened_t >= t0:
            out["fate"] = "not_open"
            return out
        if failed is not None and failed.finish_t < t0:
            out["fate"], out["error"] = "gone_before", failed.error
            return out
        answers = [r.finish_t for r in self.rows if r.ok and r.finish_t < t1]
        before = [t for t in answers if t < t0]
        inside = [t for t in answers if t >= t0]
        marks = [before[-1] if before else self.opened_t, *inside]
        if failed is not None and failed.finish_t < t1:
            out["fate"], out["error"] = "broke", failed.error
            out["broke_after_s"] = round(failed.finish_t - t0, 3)
            marks.append(failed.finish_t)
        else:
            marks.append(t1)
        gap = max((b - a for a, b in zip(marks, marks[1:])), default=0.0)
        out["max_gap_s"] = round(gap, 3)
        out["answers"] = len(inside)
        if "fate" not in out:
            out["fate"] = "stalled" if gap > stall else "survived"
        return out


def stall_s(run: Run) -> float:
    """How long a connection may go without an answer before it counts as stalled: the
    interval the probe used on it (recorded when it started) plus twice LATENCY."""
    starts = [e for e in run.of_kind("connections_probe") if e.get("action") == "start"]
    return (starts[-1].get("interval", INTERVAL) if starts else INTERVAL) + 2 * LATENCY


def read(folder: Path) -> list[Connection]:
    """Every connection of a run folder's connections.csv ([] if the run had none)."""
    return read_file(folder / FILE)


def read_file(path: Path) -> list[Connection]:
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        try:
            rows = list(read_rows(fh))
        except (KeyError, ValueError) as e:
            raise LabError(f"{path}: malformed row ({e}); the file is not a halab connections.csv") from None
    by_conn: dict[int, list[Row]] = {}
    for row in rows:
        by_conn.setdefault(row.conn, []).append(row)
    out = []
    for conn, mine in sorted(by_conn.items()):
        mine.sort(key=lambda r: r.send_t)
        first = mine[0]
        out.append(Connection(conn, first.vip, first.source, first.port, first.opened_t, tuple(mine)))
    return out


def read_rows(fh: IO[str]) -> Iterator[Row]:
    for r in csv.DictReader(fh):
        yield Row(int(r["conn"]), r["vip"], r["source"], r["port"], float(r["opened_t"]) if r["opened_t"] else None,
                  float(r["sched_t"]), float(r["send_t"]), float(r["finish_t"]), r["server"],
                  int(r["status"]) if r["status"] else None, r["error"])


def by_age(fates: list[dict[str, Any]], step: float = 1.0) -> list[dict[str, Any]]:
    """Survival against age at the phase's start, in bins of `step` seconds: the figure."""
    bins: dict[int, dict[str, int]] = {}
    for f in fates:
        if f["fate"] in ("survived", "stalled", "broke"):
            b = bins.setdefault(int(f["age_s"] // step), {"survived": 0, "broke": 0})
            b["broke" if f["fate"] == "broke" else "survived"] += 1
    return [{"age_from_s": k * step, "age_to_s": (k + 1) * step, **v} for k, v in sorted(bins.items())]
