"""Each decision made in one place: the programs' paths, the DR ARP sysctls and the
sysctl.conf record, the rendering of a lab's files, the probes' defaults. Each test asks
the places that use a decision whether they take it from its one owner."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from conftest import REPO
from labs import requirements, results
from labs.daemons import CLASSES
from labs.daemons.keepalived import Keepalived, config_test_command
from labs.daemons.nginx import Nginx
from labs.kaconfig import oracle


def test_each_program_path_is_written_once():
    """A program's path is a string in one module: the daemon class that runs it, or
    labs.requirements for the other tools."""
    written: Counter[str] = Counter()
    for folder in ("labs", "scenarios", "topologies", "tools"):
        for path in (REPO / folder).rglob("*.py"):
            written.update(re.findall(r"[\"'](/usr/s?bin/[\w.-]+)[\"']", path.read_text()))
    assert {p: n for p, n in written.items() if n > 1} == {}
    assert {Keepalived.binary, Nginx.binary, requirements.IPVSADM} <= set(written)


def test_the_daemons_commands_and_the_oracle_run_the_class_binary():
    assert config_test_command(Path("keepalived.conf"))[0] == Keepalived.binary
    assert oracle.lab_keepalived() == Keepalived.binary
    assert "KEEPALIVED" not in vars(oracle)
    from labs import daemons

    assert daemons.programs() == {c.binary: c.package for c in CLASSES}
    assert {name: cmd[0] for name, cmd in daemons.version_commands().items()} == {c.name: c.binary for c in CLASSES}


def test_ipvsadm_is_one_constant():
    from labs.lab import inspect
    from scenarios import director_failover

    assert requirements.TOOLS[requirements.IPVSADM] == "ipvsadm"
    assert results.TOOL_VERSIONS["ipvsadm"][0] is requirements.IPVSADM
    assert inspect.IPVSADM is requirements.IPVSADM and director_failover.IPVSADM is requirements.IPVSADM
