"""Loading a results folder: run.json, events.jsonl, probes.csv."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labs.common.errors import LabError
from labs.common.jsonfile import HEADER


@dataclass(frozen=True)
class Request:
    sched_t: float
    send_t: float
    finish_t: float
    vip: str
    source: str
    server: str
    status: int | None
    error: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400


@dataclass
class Run:
    folder: Path
    info: dict[str, Any]
    events: list[dict[str, Any]]
    requests: list[Request]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] == kind]


def read_requests(path: Path) -> list[Request]:
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        try:
            out.append(Request(float(r["sched_t"]), float(r["send_t"]), float(r["finish_t"]), r["vip"], r["source"],
                               r["server"], int(r["status"]) if r["status"] else None, r["error"]))
        except (KeyError, ValueError) as e:
            raise LabError(f"{path}: malformed probe row {r} ({e}); the file is not a halab probes.csv") from None
    return sorted(out, key=lambda q: q.send_t)


def load(folder: Path) -> Run:
    """Everything the analysis needs, or a one-line error naming the file that is missing:
    a scenario run (which always probes) without its probes.csv would otherwise be judged
    as if no request had been sent. An interactive session may run without a probe
    (`--no-probe`): its VIP moves are still judged."""
    if not (folder / "run.json").is_file():
        raise LabError(f"no run.json in {folder}: not a run folder; pass a run, suite or sweep folder under results/")
    try:
        info = json.loads((folder / "run.json").read_text())
        events_file = folder / "events.jsonl"
        lines = events_file.read_text().splitlines() if events_file.exists() else []
        events = [e for e in (json.loads(line) for line in lines if line.strip()) if e.get("kind") != HEADER]
    except ValueError as e:
        raise LabError(f"{folder}: cannot parse run.json/events.jsonl ({e})") from None
    events.sort(key=lambda e: e["t"])
    probes = folder / "probes.csv"
    if not probes.exists() and info.get("scenario"):
        raise LabError(f"no probes.csv in {folder}: the client probe's requests are what the run is judged by; "
                       "copy the whole run folder")
    return Run(folder, info, events, read_requests(probes))
