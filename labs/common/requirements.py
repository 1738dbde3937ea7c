"""What the lab needs on the machine, each with the Debian package that provides it; and the one
line a command prints when its interpreter cannot import what it needs (`cannot_import`)."""
from __future__ import annotations

import importlib.util
import os
import sys

from labs.common.errors import LabError

IPVSADM = "/usr/sbin/ipvsadm"  # what an operator runs to read IPVS: the lab's inspection, scenarios, run.json
TOOLS = {  # the daemons' own binaries come from labs.daemons.programs()
    IPVSADM: "ipvsadm",
    "/usr/bin/mnexec": "mininet",
    "/usr/sbin/brctl": "bridge-utils",
    "/usr/sbin/ifconfig": "net-tools",
    "/usr/sbin/ip": "iproute2",
}
MODULES = {"mininet": "mininet", "pyroute2": "python3-pyroute2", "jinja2": "python3-jinja2",
           "matplotlib": "python3-matplotlib"}
LIBRARIES = {**MODULES, "pexpect": "python3-pexpect"}  # what the commands import (pexpect: only --cli under UML)
OWN = ("labs", "topologies", "scenarios")  # the checkout's packages (pip installs them all)
ANALYSIS = ("labs.analyze", "labs.plot", "labs.compare", "labs.lint", "labs.render")  # need only what pip brings


def use_instead(module: str) -> str:
    """The interpreters that run `python -m module`: Debian's, which sees the packages setup.sh installs."""
    pip = "`pip install .` into this interpreter, or " if module in ANALYSIS else ""
    return (f"{pip}run `sudo ./setup.sh`, then `sudo python -m {module} ...` (sudo's python is Debian's /usr/bin/python3), "
            f"`/usr/bin/python3 -m {module} ...`, or a venv made with `/usr/bin/python3 -m venv --system-site-packages`")


def cannot_import(prog: str, e: ModuleNotFoundError) -> str | None:
    """The one line for a command (`prog`: python -m labs.X, or halab X) whose interpreter lacks a library it needs
    (a pyenv, conda or plain venv interpreter does not see Debian's python3 packages), or that runs
    outside the checkout; None for any other missing module, a bug whose traceback is kept.
    Under `halab X` (`prog`), the fix names the module that runs X."""
    module = prog.removeprefix("python -m ")
    if prog.startswith("halab "):
        from labs.halab import COMMANDS  # a cycle: labs.halab imports this module (labs.common.command)

        module = COMMANDS[prog.split()[1]][0]
    if e.name in OWN:
        return (f"{prog}: error: cannot import {e.name}, one of halab's own packages: run it from the repository "
                f"folder (the one holding labs/, topologies/ and scenarios/), or install halab with `pip install .`")
    if e.name in LIBRARIES:
        return f"{prog}: error: {sys.executable} cannot import {e.name} (Debian's {LIBRARIES[e.name]}): {use_instead(module)}"
    return None


def check(module: str = "labs.run") -> None:
    """One line naming what is missing and the command that installs it."""
    from labs import daemons  # the daemon classes import jinja2: checked below only if present

    programs = {**TOOLS, **daemons.programs()} if importlib.util.find_spec("jinja2") else TOOLS
    missing = sorted({pkg for path, pkg in programs.items() if not os.path.exists(path)})
    if missing:
        raise LabError(f"missing programs; install them with: sudo apt-get install {' '.join(missing)} (or run ./setup.sh)")
    absent = sorted(mod for mod in MODULES if importlib.util.find_spec(mod) is None)
    if absent:
        raise LabError(f"{sys.executable} cannot import {', '.join(absent)} "
                       f"(Debian's {', '.join(MODULES[mod] for mod in absent)}): {use_instead(module)}")
