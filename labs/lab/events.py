"""The run's event log: one JSON object per line, all stamped with one clock.

The clock is CLOCK_REALTIME (`time.time()`): namespaces share it, so events from every
host, the probes and the fault injector line up, and it matches the daemons' own logs.
The file starts with a header line (labs.common.jsonfile.header: the schema version).
Lines are appended as events come (a run that dies keeps what it saw), so threads stamping
their own times (the FIFO, netlink) leave them slightly out of order; closing the file (or
switching to the next) rewrites it in time order.
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import IO, Any

from labs.common import jsonfile


class EventLog:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._fh = self._open(path) if path else None

    @staticmethod
    def _open(path: Path) -> IO[str]:
        """Append to `path`, a new file getting its header first."""
        fh = open(path, "a", buffering=1)
        if fh.tell() == 0:
            fh.write(jsonfile.header(time.time()))
        return fh

    def record(self, kind: str, t: float | None = None, **fields: Any) -> dict[str, Any]:
        event = {"t": time.time() if t is None else t, "kind": kind, **fields}
        with self._lock:
            self.events.append(event)
            if self._fh:
                self._fh.write(json.dumps(event) + "\n")
        return event

    def switch(self, path: Path) -> None:
        """Record into another file from now on (the next scenario on the same lab). The
        latest VRRP state per instance is carried over, with its own time: what a lab
        status needs to know, and before any phase of the new file."""
        with self._lock:
            carried = list({(e.get("host"), e.get("instance")): e for e in self.events if e["kind"] == "vrrp"}.values())
            self._finish()
            self.path, self.events = path, []
            self._fh = self._open(path)
            for e in carried:
                self.events.append(e)
                self._fh.write(json.dumps(e) + "\n")

    def latest(self, kind: str) -> dict[tuple[Any, ...], dict[str, Any]]:
        """The last event of `kind` per (host, instance)."""
        with self._lock:
            return {(e.get("host"), e.get("instance")): e for e in self.events if e["kind"] == kind}

    def first_per_host(self, kind: str) -> dict[str, float]:
        """Time of the first event of `kind` per host."""
        out: dict[str, float] = {}
        with self._lock:
            for e in self.events:
                if e["kind"] == kind:
                    out.setdefault(e["host"], e["t"])
        return out

    def close(self) -> None:
        with self._lock:
            self._finish()

    def _finish(self) -> None:
        """Close the file and rewrite it in time order, its header first (stamped with the
        first event's time). In place, not by rename: a sudo run's file keeps its owner."""
        if not self._fh or self.path is None:
            return
        self._fh.close()
        self._fh = None
        rows = [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
        events = sorted((e for e in rows if e.get("kind") != jsonfile.HEADER), key=lambda e: e["t"])
        start = min([e["t"] for e in rows], default=time.time())
        self.path.write_text(jsonfile.header(start) + "".join(json.dumps(e) + "\n" for e in events))
