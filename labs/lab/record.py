"""What a run created, written down as it is created, so that any later run can undo it.

One lab at a time per kernel: /run/halab/lock is held (flock) for the whole run, and
/run/halab/record.json lists the run's namespaces (by name and by identity), its runtime
folder and its pid. A run that finds a record while holding the lock knows the previous
run died without tearing down, and removes exactly what that record names: processes
inside the recorded namespaces, the recorded /run/netns names (only if they still are the
same namespaces), the recorded runtime folder. Nothing is found by process name.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from labs.common.errors import LabError
from labs.lab import netns
from labs.lab.paths import STATE_ROOT

LOCK = STATE_ROOT / "lock"
RECORD = STATE_ROOT / "record.json"


@dataclass
class Record:
    pid: int
    results: str
    runtime: str
    namespaces: dict[str, list[int]] = field(default_factory=dict)  # name -> identity
    anonymous: list[list[int]] = field(default_factory=list)  # e.g. the bridge's namespace
    run_dir: list[bool] = field(default_factory=lambda: [True, True])  # /run/netns (existed, mounted) before

    def save(self) -> None:
        tmp = RECORD.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        os.replace(tmp, RECORD)

    @classmethod
    def load(cls) -> "Record | None":
        try:
            return cls(**json.loads(RECORD.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def identities(self) -> set[netns.Identity]:
        return {tuple(i) for i in (*self.namespaces.values(), *self.anonymous)}  # type: ignore[misc]


class Lock:
    """Held for a whole run; a second run gets the holder's pid and results folder."""

    def __init__(self) -> None:
        self.fh: IO[str] | None = None

    def acquire(self, results: Path) -> None:
        STATE_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
        fh = open(LOCK, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            fh.close()
            raise LabError(f"another lab is running ({holder}); wait for it to finish or stop it with Ctrl-C / kill")
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}, results {results}")
        fh.flush()
        self.fh = fh

    def release(self) -> None:
        if self.fh is not None:
            self.fh.seek(0)
            self.fh.truncate()
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def sweep(record: Record) -> list[str]:
    """Remove what `record` names; return a line per thing removed."""
    removed: list[str] = []
    idents = record.identities()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = [p for p in netns.processes_in(idents) if p != os.getpid()]
        names = [f"{_comm(pid)}[{pid}]" for pid in pids]  # which, so a teardown that had to is explained
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if pids:
            removed.append(f"{len(pids)} process(es) in the lab's namespaces ({sig.name}): {', '.join(names)}")
            deadline = time.monotonic() + 3.0
            while netns.processes_in(idents) and time.monotonic() < deadline:
                time.sleep(0.05)
    for name, ident in record.namespaces.items():
        if netns.named(name) == tuple(ident):
            netns.detach(name)
            removed.append(f"namespace {name}")
    removed += netns.release_run_dir(*record.run_dir)
    runtime = Path(record.runtime)
    if runtime.parent == STATE_ROOT and runtime.exists():
        shutil.rmtree(runtime, ignore_errors=True)
        removed.append(f"runtime folder {runtime}")
    return removed


def sweep_stale() -> list[str]:
    """Under the lock: undo a previous run that died; its record must not be ours."""
    record = Record.load()
    if record is None:
        return []
    removed = sweep(record)
    RECORD.unlink(missing_ok=True)
    return removed
