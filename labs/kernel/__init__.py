"""Kernel backends: where the lab's namespaces and IPVS tables live.

`native` is the host kernel (needs root and IPVS). `uml` boots Debian's User-mode Linux
kernel on the host's own root filesystem and re-runs the same command inside it, so a
kernel without IPVS (or a user without root) can still run the real lab.
"""
from __future__ import annotations

from dataclasses import dataclass

from labs.errors import LabError
from labs.kernel import native, uml

CHOICES = ("auto", "native", "uml")


@dataclass(frozen=True)
class Choice:
    backend: str  # "native" | "uml"
    reason: str


def choose(requested: str) -> Choice:
    """Pick a backend; `auto` prefers native and says why it did not take it."""
    if requested not in CHOICES:
        raise LabError(f"unknown kernel backend {requested!r}; use one of {', '.join(CHOICES)}")
    native_problem = native.problem()
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
        return Choice("native", "the host kernel has IPVS and we are root")
    if not uml_problem:
        return Choice("uml", f"native is not possible: {native_problem}")
    raise LabError(
        f"no kernel backend can run the lab: native: {native_problem}; uml: {uml_problem}"
    )
