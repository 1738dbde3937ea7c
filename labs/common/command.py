"""The exits every command shares: one line for bad input or an interpreter that lacks a library
the command imports (2), and for lab commands also Ctrl-C (130), SIGTERM (143, tearing down on the
way) and a bug (1, its traceback kept). A library missing from a command's module-level imports
fails before any of this runs: labs/__init__.py turns that into the same line."""
from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import IO, Any, Callable

from labs import requirements, results
from labs.jsonfile import SCHEMA_VERSION
from labs.errors import LabError


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def emit_json(data: dict[str, Any], out: IO[str]) -> None:
    """A command's `--json` document on `out` (the real stdout)."""
    print(json.dumps({"schema_version": SCHEMA_VERSION, **data}, indent=1), file=out, flush=True)


def entry(prog: str, go: Callable[[], int]) -> int:
    """A command that reads files: a LabError, or a library this interpreter lacks
    (labs.requirements.cannot_import), is one line on stderr and exit 2."""
    try:
        return go()
    except LabError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as e:
        line = requirements.cannot_import(prog, e)
        if line is None:  # not a library this interpreter lacks: a bug, its traceback kept
            raise
        print(line, file=sys.stderr)
        return 2


def guarded(prog: str, go: Callable[[], int], results_root: Path) -> int:
    """Every lab command's exits: one line for a LabError (2), Ctrl-C (130), SIGTERM
    (143) or a closed terminal's SIGHUP (129), tearing down on the way, a bug (1, its
    traceback kept under `results_root`). SIGHUP's default would end the process on the
    spot, leaving its lab (or its User-mode Linux work folder) behind."""
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    try:
        return entry(prog, go)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug: one line for the user, the traceback kept for the report
        where = results.save_traceback(results_root, name=time.strftime("error-%Y%m%dT%H%M%SZ.txt", time.gmtime()))
        print(f"{prog}: error: {type(e).__name__}: {e} (a bug; traceback: {where})", file=sys.stderr)
        return 1
