"""The run's event log: one JSON object per line, all stamped with one clock.

The clock is CLOCK_REALTIME (`time.time()`): namespaces share it, so events from every
host, the probes and the fault injector line up, and it matches the daemons' own logs.
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any


class EventLog:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._fh = open(path, "a", buffering=1) if path else None

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
            if self._fh:
                self._fh.close()
            self.path, self.events = path, []
            self._fh = open(path, "a", buffering=1)
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
        if self._fh:
            self._fh.close()
            self._fh = None
