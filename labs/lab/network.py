"""Gives each host of a built lab what its role needs (addresses, sysctls: labs.spec.sysctls
decides which); the network itself is Mininet's (labs.lab.topo)."""
from __future__ import annotations

from pathlib import Path

from pyroute2 import IPRoute

from labs.spec import sysctls
from labs.common.errors import LabError
from labs.lab import netns
from labs.spec import Host, LabSpec


def check_names_free(spec: LabSpec) -> None:
    """Refuse to shadow a namespace that is not ours."""
    for host in spec.hosts:
        if netns.named(host.name) is not None:
            raise LabError(
                f"a network namespace named {host.name!r} already exists and this lab did not record it; "
                f"remove it (sudo ip netns delete {host.name}) or stop whatever made it"
            )


def _sysctl(ns: str | None, key: str, value: str) -> None:
    with netns.entered(ns):
        Path("/proc/sys", *key.split(".")).write_text(value)


def configure(spec: LabSpec, host: Host, ns: str | None) -> None:
    """Role-specific set-up inside namespace `ns` (the host's named one in the lab;
    None on a real machine of the same lab, see labs.render)."""
    with netns.entered(ns):
        ipr = IPRoute()
    with ipr:
        lab_if = ipr.link_lookup(ifname=spec.interface)[0]
        lo = ipr.link_lookup(ifname="lo")[0]
        for extra in host.extra_ips:
            ipr.addr("add", index=lab_if, address=extra, prefixlen=spec.prefixlen)
        if host.role == "real_server":
            for vip in spec.lvs_vips:
                ipr.addr("add", index=lo, address=vip, prefixlen=32)
    for key, value in sysctls.of_host(spec, host).items():
        _sysctl(ns, key, value)


def host_addresses(spec: LabSpec, host: Host) -> list[str]:
    """What `configure` put on the host (for the status table)."""
    own = [spec.interface_address(host.ip)]
    if host.extra_ips:
        own.append(f"+{len(host.extra_ips)} ({host.extra_ips[0]}..{host.extra_ips[-1]})")
    if host.role == "real_server":
        own += [f"{vip}/32 (lo)" for vip in spec.lvs_vips]
    return own
