"""`python -m labs.render TOPOLOGY|LAB.toml --out DIR`: the lab's configs, for real machines.

Renders every host's files with the same templates and data the namespaces use into
DIR/configs/<host>/ (keepalived.conf; on servers nginx.conf, check_nginx.sh; sysctl.conf),
with the runtime files (pid files, check script copy, page) under DIR/runtime.

`--apply HOST` (as root, on the machine that is HOST, its lab interface named like the
topology's — enp0s8, as VirtualBox's second NIC is) renders HOST's files with the
runtime under /run/halab/machine, adds the host's extra addresses and sysctls, runs the
daemons' own checks and starts them: what each VM of the Vagrant multi-machine mode runs.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from labs import daemons
from labs.common import results
from labs.common.command import Parser, describe, listing, entry, lab_arguments, lab_of, renamed
from labs.daemons.base import Daemon
from labs.common.errors import LabError
from labs.lab.paths import STATE_ROOT, RunPaths
from labs.spec import LabSpec

MACHINE_RUNTIME = STATE_ROOT / "machine"


class LocalNode:
    """This machine, as a lab host: commands run here directly."""

    name = "local"
    pid = os.getpid()

    def popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        return subprocess.Popen(argv, **kwargs)

    def pexec(self, argv: list[str], **kwargs: Any) -> tuple[str, str, int]:
        p = subprocess.run(argv, capture_output=True, text=True, **kwargs)
        return p.stdout, p.stderr, p.returncode


def render(spec: LabSpec, paths: RunPaths, hosts: list[str]) -> list[Daemon]:
    """`hosts`' files as the lab renders them (labs.daemons.render), and a folder for the
    daemons' logs (a machine's daemons write there)."""
    made = daemons.render(spec, paths, hosts)
    paths.logs.mkdir(parents=True, exist_ok=True)
    return made


def apply(spec: LabSpec, target: Path, name: str) -> None:
    from labs.lab import network  # pyroute2: only --apply configures a machine; rendering files works without it

    if os.geteuid() != 0:
        raise LabError("--apply configures this machine: run it as root (sudo)")
    host = spec.host(name)
    made = render(spec, RunPaths(target, MACHINE_RUNTIME), [name])
    network.configure(spec, host, None)
    node = LocalNode()
    for d in made:
        d.check(node)
    for d in made:
        d.stop()  # a re-provisioned machine restarts what it started before
        d.start(node)
        d.wait_started()
        print(f"{d.name} running on {name} (pid {d.pid}), log {d.log}")


# what render writes into its --out folder (RunPaths): a folder holding only these is its own
OURS = {"configs", "runtime", "logs"}


def main(argv: list[str] | None = None, prog: str = "python -m labs.render") -> int:
    p = Parser(prog=prog, description=describe(__doc__))
    p.add_argument("topology", help=f"a topology ({listing(prog)}) or a lab file (.toml)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="folder to render into (new, empty, or one render wrote before)")
    renamed(p, "--target", "--out", "--target names a host in every other command")
    lab_arguments(p)
    p.add_argument("--apply", metavar="HOST", help="this machine is HOST: render its files, configure it, start its daemons")
    args = p.parse_args(argv)
    return entry(prog, lambda: render_command(args))


def render_command(args: argparse.Namespace) -> int:
    """Render a topology's configs into a folder, or configure this machine as one host."""
    spec = lab_of(args).spec
    results.check_output_folder(args.out, "--out", OURS)
    if args.apply:
        if args.apply not in {h.name for h in spec.hosts}:
            raise LabError(f"unknown host {args.apply!r}; {spec.name} has {', '.join(h.name for h in spec.hosts)}")
        apply(spec, args.out.resolve(), args.apply)
    else:
        out = args.out.resolve()
        made = render(spec, RunPaths(out, out / "runtime"), [h.name for h in spec.hosts])
        print(f"rendered {len(made)} daemon configs for {len(spec.hosts)} hosts into {out / 'configs'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
