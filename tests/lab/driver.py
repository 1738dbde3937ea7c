"""Runs `python -m labs.run ARGS --kernel native` in this kernel (inside UML, or natively),
optionally signals it when a line containing MARKER appears, and prints one JSON line:
its exit status, output, and what it left in this kernel that was not there before."""
from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from labs.lab import resources  # noqa: E402
from labs.lab.paths import STATE_ROOT  # noqa: E402

TAG = "@@driver@@"


def state() -> dict[str, list[str]]:
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout.splitlines()
    return {
        "links": sorted(line.split(":")[1].strip() for line in links),
        "mounts": sorted(" ".join(m.split()[3:5]) for m in Path("/proc/self/mountinfo").read_text().splitlines()),
        "netns": sorted(p.name for p in Path("/run/netns").glob("*")),
        "state_files": sorted(str(p) for p in STATE_ROOT.rglob("*") if p.name != "lock") if STATE_ROOT.exists() else [],
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--at", help="signal the run when a line containing this appears")
    p.add_argument("--signal", default="SIGINT")
    p.add_argument("run", nargs=argparse.REMAINDER)
    args = p.parse_args()
    accounting, before = resources.Accounting(), state()
    proc = subprocess.Popen([sys.executable, "-m", "labs.run", *args.run, "--kernel", "native"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    out, sent = [], False
    for line in proc.stdout:
        out.append(line)
        if args.at and not sent and args.at in line:
            proc.send_signal(getattr(signal, args.signal))
            sent = True
    proc.wait()
    after = state()
    left = {k: sorted(set(after[k]) - set(before[k])) for k in after}
    print(TAG + json.dumps({"exit": proc.returncode, "signalled": sent, "output": "".join(out),
                            "left": left, "usage": accounting.usage().to_json()}), flush=True)


if __name__ == "__main__":
    main()
