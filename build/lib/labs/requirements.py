"""What the lab needs on the machine, each with the Debian package that provides it."""
from __future__ import annotations

import importlib.util
import os
import sys

from labs.errors import LabError

TOOLS = {  # the daemons' own binaries come from labs.daemons.programs()
    "/usr/sbin/ipvsadm": "ipvsadm",
    "/usr/bin/mnexec": "mininet",
    "/usr/sbin/brctl": "bridge-utils",
    "/usr/sbin/ifconfig": "net-tools",
    "/usr/sbin/ip": "iproute2",
}
MODULES = {"mininet": "mininet", "pyroute2": "python3-pyroute2", "jinja2": "python3-jinja2",
           "matplotlib": "python3-matplotlib"}


def check() -> None:
    """One line naming what is missing and the command that installs it."""
    from labs import daemons  # the daemon classes import jinja2: checked below only if present

    programs = {**TOOLS, **daemons.programs()} if importlib.util.find_spec("jinja2") else TOOLS
    missing = sorted({pkg for path, pkg in programs.items() if not os.path.exists(path)})
    if missing:
        raise LabError(f"missing programs; install them with: sudo apt-get install {' '.join(missing)} (or run ./setup.sh)")
    absent = sorted({pkg for mod, pkg in MODULES.items() if importlib.util.find_spec(mod) is None})
    if absent:
        raise LabError(
            f"{sys.executable} cannot import {', '.join(absent)}; Debian packages them for its own python3: "
            f"run ./setup.sh, then use `python` (/usr/bin/python) or /usr/bin/python3"
        )
