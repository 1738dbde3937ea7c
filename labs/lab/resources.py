"""What a run holds on the machine once it is over: the soak test's and --repeat's leak check.

Counted against what existed when the runner started, so a host's own containers and
daemons never count: network namespaces that appeared since, the processes in them and
the runner's own descendants, the runner's open file descriptors, mounts, and its memory.
"""
from __future__ import annotations

import gc
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from labs.common import tables
from labs.lab import netns

PROC = Path("/proc")


def _pids() -> list[int]:
    return [int(p.name) for p in PROC.iterdir() if p.name.isdigit()]


def _namespace(pid: int) -> netns.Identity | None:
    try:
        return netns.of_pid(pid)
    except OSError:
        return None


def _parent(pid: int) -> int:
    try:
        return int((PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _rss_kib() -> int:
    for line in (PROC / "self" / "status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass(frozen=True)
class Usage:
    namespaces: int  # network namespaces made since the runner started (named or held by a process)
    processes: int  # processes in those namespaces, plus the runner's descendants
    fds: int  # the runner's open file descriptors
    mounts: int  # mounts the runner sees
    rss_kib: int  # the runner's resident memory

    def to_json(self) -> dict[str, int]:
        return asdict(self)


class Accounting:
    """Remembers the machine as the runner found it; `usage()` reports what is new."""

    def __init__(self) -> None:
        self.namespaces = {ns for ns in map(_namespace, _pids()) if ns is not None}
        self.namespaces |= self._named()

    @staticmethod
    def _named() -> set[netns.Identity]:
        try:
            names = [p.name for p in netns.RUN_DIR.iterdir()]
        except OSError:
            return set()
        return {ns for ns in map(netns.named, names) if ns is not None}

    def usage(self) -> Usage:
        gc.collect()  # garbage not yet collected is not a leak; without this RSS swings by 40 MiB
        me = os.getpid()
        pids = [p for p in _pids() if p != me]
        where = {p: _namespace(p) for p in pids}
        new = {ns for ns in where.values() if ns is not None and ns not in self.namespaces}
        new |= self._named() - self.namespaces
        parents = {p: _parent(p) for p in pids}

        def descends(pid: int) -> bool:
            seen = 0
            while pid > 1 and seen < 64:
                pid, seen = parents.get(pid, 0), seen + 1
                if pid == me:
                    return True
            return False

        processes = sum(1 for p in pids if where[p] in new or descends(p))
        return Usage(
            namespaces=len(new),
            processes=processes,
            fds=len(os.listdir("/proc/self/fd")) - 1,  # minus the one listdir opened
            mounts=len((PROC / "self" / "mountinfo").read_text().splitlines()),
            rss_kib=_rss_kib(),
        )


def table(usage: list[dict[str, int]]) -> str:
    """What each run left held once torn down; a leak shows as a column that grows."""
    cols = ("namespaces", "processes", "fds", "mounts", "rss_kib")
    return "resources after each run:\n" + tables.render(("run", *cols), [(n, *(u[c] for c in cols))
                                                                          for n, u in enumerate(usage, 1)])
