"""Where a run keeps its files.

Two trees: the results folder (configs and logs, kept after the run, owned by the user)
and the runtime folder under /run/halab (pid files, FIFOs, nginx temp dirs and the check
scripts, root-owned as keepalived's script security demands, removed at teardown).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STATE_ROOT = Path("/run/halab")


@dataclass(frozen=True)
class RunPaths:
    results: Path
    runtime: Path

    def configs(self, host: str) -> Path:
        return self.results / "configs" / host

    @property
    def logs(self) -> Path:
        return self.results / "logs"

    def log(self, host: str, what: str) -> Path:
        return self.logs / f"{host}-{what}.log"

    def host_runtime(self, host: str) -> Path:
        return self.runtime / host
