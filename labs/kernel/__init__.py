"""Kernel backends: where the lab's namespaces and IPVS tables live.

`native` is the host kernel (needs root and IPVS). `uml` boots Debian's User-mode Linux
kernel on the host's own root filesystem and re-runs the same command inside it, so a
kernel without IPVS (or a user without root) can still run the real lab.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from labs.common import results as labs_results
from labs.common.errors import LabError
from labs.kernel import native, uml

CHOICES = ("auto", "native", "uml")
BOOT_LOG = "uml-boot.log"  # in the results folder: the User-mode Linux kernel's boot messages, off the terminal


@dataclass(frozen=True)
class Choice:
    backend: str  # "native" | "uml"
    reason: str


def choose(requested: str, ipvs: bool = True) -> Choice:
    """Pick a backend; `auto` prefers native and says why it did not take it. `ipvs`: the
    lab has virtual servers (without, the host kernel needs no IPVS)."""
    if requested not in CHOICES:
        raise LabError(f"unknown kernel backend {requested!r}; use one of {', '.join(CHOICES)}")
    native_problem = native.problem(ipvs)
    uml_problem = uml.problem()
    if requested == "native":
        if native_problem:
            raise LabError(f"--kernel native cannot run: {native_problem}")
        return Choice("native", "requested with --kernel native")
    if requested == "uml":
        if uml_problem:
            raise LabError(f"--kernel uml cannot run: {uml_problem}")
        return Choice("uml", "requested with --kernel uml")
    if not native_problem:
        return Choice("native", "the host kernel has IPVS and we are root" if ipvs
                      else "we are root, and a lab without virtual servers needs no IPVS")
    if not uml_problem:
        return Choice("uml", f"native is not possible: {native_problem}")
    raise LabError(
        f"no kernel backend can run the lab: native: {native_problem}; uml: {uml_problem}"
    )


def dispatch_here(requested: str, ipvs: bool = True) -> tuple[str, str]:
    """(backend, reason) for a lab run in this very process (the Python API), which
    cannot move itself into User-mode Linux: natively, or when already inside it."""
    if os.environ.get("HALAB_IN_UML"):
        return "uml", os.environ.get("HALAB_KERNEL_REASON", "inside User-mode Linux")
    choice = choose(requested, ipvs)
    if choice.backend != "native":
        raise LabError(f"this process cannot run the lab ({choice.reason}): in a script, call labs.api.here() first "
                       "(it re-runs the script inside User-mode Linux); in a notebook, run it as root on a kernel "
                       "with IPVS")
    return choice.backend, choice.reason


def dispatch(module: str, argv: list[str], requested: str, results: Path,
             interactive: bool = False, ipvs: bool = True, cpu: int | None = None) -> int | tuple[str, str]:
    """Where a lab command runs: (backend, reason) to go on in this process, or the exit
    status of `python -m MODULE ARGV` rerun inside User-mode Linux, on host CPU `cpu`
    (uml.host_cpu: by default the first this process may use). MODULE may be a script's
    path ending in .py (a Python API user's: labs.api.here)."""
    if os.environ.get("HALAB_IN_UML"):
        return "uml", os.environ.get("HALAB_KERNEL_REASON", "inside User-mode Linux")
    choice = choose(requested, ipvs)
    if choice.backend == "native":
        print(f"kernel: native ({choice.reason})", flush=True)
        return choice.backend, choice.reason
    on = uml.host_cpu(cpu)
    print(f"kernel: uml ({choice.reason}), on host CPU {on}", flush=True)
    problem = uml.results_problem(results)
    if problem:
        raise LabError(problem)
    os.environ["HALAB_KERNEL_REASON"] = choice.reason
    before = labs_results.entries(results)
    try:
        labs_results.make_root(results)
        program = [module] if module.endswith(".py") else ["-m", module]
        return uml.run([sys.executable, *program, *argv], on, interactive=interactive, boot_log=results / BOOT_LOG)
    finally:  # an interrupted inner run could not hand its files over itself
        labs_results.hand_over(sorted(labs_results.entries(results) - before))
