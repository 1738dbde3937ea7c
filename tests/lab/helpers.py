"""Running the lab's command line the way a user does, and looking for what it left behind."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import REPO  # noqa: F401 (re-exported to the lab tests)

RUN_TIMEOUT = 600


def command(*args: str, python: str = sys.executable) -> list[str]:
    return [python, "-m", "labs.run", *args]


def leftovers(spec_hosts: list[str]) -> list[str]:
    """Anything of a finished run still on this machine: UML processes and work folders
    of any lab run (tests run one lab at a time), or lab namespaces."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "umid=halab-" in cmdline:
                found.append(f"process {entry.name}: {cmdline[:80]}")
    found += [str(p) for p in Path("/var/tmp").glob("halab-uml-*")]
    netns_dir = Path("/run/netns")
    found += [f"netns {h}" for h in spec_hosts if (netns_dir / h).exists()]
    return found


def run_folder(results: Path) -> Path:
    """The one run folder under `results` (a shared lab's own `…-lab` folder aside)."""
    (folder,) = [p for p in results.iterdir() if p.is_dir() and p.name != "latest" and not p.name.endswith("-lab")]
    return folder


def load(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text())
