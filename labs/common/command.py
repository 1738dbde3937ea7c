"""The exits every command shares: one line for bad input or an interpreter that lacks a library
the command imports (2), and for lab commands also Ctrl-C (130), SIGTERM (143, tearing down on the
way) and a bug (1, its traceback kept). A library missing from a command's module-level imports
fails before any of this runs: labs/__init__.py turns that into the same line."""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import IO, Any, Callable, NoReturn

from labs.common import requirements

from labs.common import results
from labs.common.jsonfile import SCHEMA_VERSION
from labs.common.errors import LabError
from labs.plan.runplan import LabChoice, choose_lab, parse_settings


class Parser(argparse.ArgumentParser):
    """Every command's parser: a wrong invocation is one line naming what is wrong and where
    the usage is (exit 2), not argparse's whole usage block above the line that matters."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (usage: {self.prog} --help)\n")


def describe(doc: str | None) -> str:
    """A command's --help description: its docstring's whole first paragraph on one line,
    without the leading "`python -m labs.X ARGS`:" (the usage line says that)."""
    text = " ".join((doc or "").split("\n\n")[0].split())
    text = re.sub(r"^`.*?[`)]:\s+", "", text)
    return text[:1].upper() + text[1:]


def renamed(p: argparse.ArgumentParser, old: str, new: str, why: str) -> None:
    """`old`, an option's former name, kept only to say its new one: one line, exit 2."""
    class Renamed(argparse.Action):
        def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                     option_string: str | None = None) -> None:
            parser.error(f"{old} is now {new} ({why}): {new} {values}")

    p.add_argument(old, action=Renamed, help=argparse.SUPPRESS)


def listing(prog: str) -> str:
    """The command that lists topologies and variants, in the form the user runs (`prog`)."""
    return "halab list" if prog.startswith("halab ") else "python -m labs.run --list"


def lab_arguments(p: argparse.ArgumentParser) -> None:
    """The options that change the lab a command builds, the same in every command that
    takes a topology or a lab file (run, render, lint, bench_lab)."""
    p.add_argument("--variant", default="default", metavar="NAME",
                   help=f"configuration variant: the seed's mistakes, 'fast', ... (see {listing(p.prog)})")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="change one of the lab's timers, e.g. --set advert_int=0.5 (repeatable; the names: "
                   "labs/spec/__init__.py Timers; with a lab file, written into its configs)")
    p.add_argument("--servers", type=int, metavar="N",
                   help="number of real servers, for topologies that take it (scale: even, 2-64)")


def lab_of(args: argparse.Namespace, topology: str | None = None, config_test: bool = True) -> LabChoice:
    """The lab a command's arguments name (`topology`, else args.topology, with the
    lab_arguments options), its spec built: a bad one is one line before anything runs."""
    return choose_lab(topology or args.topology, args.variant, args.servers, parse_settings(args.set or []),
                      config_test=config_test)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def emit_json(data: dict[str, Any], out: IO[str]) -> None:
    """A command's `--json` document on `out` (the real stdout)."""
    print(json.dumps({"schema_version": SCHEMA_VERSION, **data}, indent=1), file=out, flush=True)


def entry(prog: str, go: Callable[[], int]) -> int:
    """A command that reads files: a LabError, or a library this interpreter lacks
    (labs.common.requirements.cannot_import), is one line on stderr and exit 2; stdout
    closed early (`halab list | head -3`) ends it quietly, as it would a Unix tool."""
    try:
        code = go()
        sys.stdout.flush()  # here, not at exit: a closed pipe is then ours to handle
        return code
    except BrokenPipeError:
        # the interpreter flushes stdout again at exit: point it at /dev/null first
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except LabError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as e:
        line = requirements.cannot_import(prog, e)
        if line is None:  # not a library this interpreter lacks: a bug, its traceback kept
            raise
        print(line, file=sys.stderr)
        return 2


def entry_json(prog: str, go: Callable[[dict[str, Any]], int], as_json: bool) -> int:
    """`entry` for a files command with `--json`: `go` fills the document (and prints its
    text only without --json); the document goes to stdout with the exit status even when
    the input was bad (the one line still on stderr), so a script always gets one."""
    doc: dict[str, Any] = {}
    code = entry(prog, lambda: go(doc))
    if as_json:
        emit_json({**doc, "exit": code}, sys.stdout)
    return code


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
