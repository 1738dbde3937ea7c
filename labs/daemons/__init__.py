"""Daemons, one class each: render -> check -> start -> stop, all in one place.

Which daemons run on which host is decided here and nowhere else: `ROLES` maps a host's
role to its daemon classes in start order, and `TIERS` says which roles start first. The
lab's start order, `labs.render`, `labs.lint`, the requirements check and the version
capture all ask this module, and `render` writes a lab's files for all of them. Adding a
daemon: one class in this package (with `binary`, `package` and `version_args`), and its
name in `ROLES`.
"""
from __future__ import annotations

from typing import Iterable

from labs.spec import sysctls
from labs.daemons.base import Daemon
from labs.daemons.keepalived import Keepalived
from labs.daemons.nginx import Nginx
from labs.lab.paths import RunPaths
from labs.spec import Host, LabSpec

ROLES: dict[str, tuple[type[Daemon], ...]] = {
    "real_server": (Nginx, Keepalived),  # nginx first: keepalived's check script expects it running
    "director": (Keepalived,),
    "client": (),
}
# Back ends first, as an operator would: directors started together with the servers would
# fail their first checks (server VIPs not up yet) and drop the real servers for a delay_loop.
TIERS = ("real_server", "director")
CLASSES: tuple[type[Daemon], ...] = tuple(dict.fromkeys(c for classes in ROLES.values() for c in classes))


def of_host(spec: LabSpec, host: Host, paths: RunPaths) -> list[Daemon]:
    """The daemons `host` runs, in start order."""
    return [cls(spec, host, paths) for cls in ROLES[host.role] if cls.wanted(spec, host)]


def of_lab(spec: LabSpec, paths: RunPaths, hosts: Iterable[str] | None = None) -> list[Daemon]:
    """Every daemon of the lab (or of `hosts`), tier by tier in start order."""
    wanted = set(hosts) if hosts is not None else {h.name for h in spec.hosts}
    return [d for role in TIERS for h in spec.role(role) if h.name in wanted for d in of_host(spec, h, paths)]


def render(spec: LabSpec, paths: RunPaths, hosts: Iterable[str] | None = None) -> list[Daemon]:
    """Write the lab's files (or those of `hosts`): every daemon's configuration and each
    host's sysctl record. The one rendering the lab, labs.render and labs.lint share, so
    what lint checks and what a machine gets are what the lab runs. Returns the daemons,
    tier by tier in start order."""
    made = of_lab(spec, paths, hosts)
    for d in made:
        d.render()
    wanted = set(hosts) if hosts is not None else {h.name for h in spec.hosts}
    for host in spec.hosts:
        if host.name in wanted:
            record = paths.configs(host.name) / sysctls.RECORD
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(sysctls.record(spec, host))
    return made


def programs() -> dict[str, str]:
    """Each daemon's binary -> the Debian package that provides it."""
    return {cls.binary: cls.package for cls in CLASSES}


def version_commands() -> dict[str, list[str]]:
    """Each daemon's name -> the command that prints its version (for run.json)."""
    return {cls.name: [cls.binary, *cls.version_args] for cls in CLASSES}
