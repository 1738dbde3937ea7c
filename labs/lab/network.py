"""Gives each host of a built lab what its role needs (addresses, sysctls); the network
itself is Mininet's (labs.topo)."""
from __future__ import annotations

from pathlib import Path

from pyroute2 import IPRoute

from labs.errors import LabError
from labs.lab import netns
from labs.spec import Host, LabSpec

# DR real servers must not answer ARP for the LVS VIPs they hold on lo (arp_ignore=1) and
# must not use them as ARP source (arp_announce=2); the seed never sets these.
DR_SYSCTLS = {"arp_ignore": "1", "arp_announce": "2"}


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
    for key, value in sysctls(spec, host).items():
        _sysctl(ns, key, value)


def sysctls(spec: LabSpec, host: Host) -> dict[str, str]:
    """The sysctls the lab sets in a host's namespace: the DR real servers' ARP settings;
    on directors IPVS's expire_nodest_conn (a new connection that reuses the port of one
    bound to a real server the checker removed is scheduled anew instead of dropped)."""
    if host.role == "director":
        out = {"net.ipv4.vs.expire_nodest_conn": "1"} if spec.expire_nodest_conn else {}
        return out | ipvs_sync_sysctls(spec)
    if host.role != "real_server" or not spec.arp_sysctls:
        return {}
    return {f"net.ipv4.conf.{scope}.{key}": value for scope in ("all", spec.interface) for key, value in DR_SYSCTLS.items()}


def ipvs_sync_sysctls(spec: LabSpec) -> dict[str, str]:
    """The IPVS sync sysctls a spec changes from the kernel's defaults (3 50, 0)."""
    t, out = spec.timers, {}
    if (t.ipvs_sync_threshold, t.ipvs_sync_period) != (3, 50):
        out["net.ipv4.vs.sync_threshold"] = f"{t.ipvs_sync_threshold} {t.ipvs_sync_period}"
    if t.ipvs_sync_refresh_period:
        out["net.ipv4.vs.sync_refresh_period"] = str(t.ipvs_sync_refresh_period)
    return out


def sysctl_record(spec: LabSpec, host: Host) -> str:
    """sysctl.conf text of what the lab set (kept beside the host's configs, read by lint)."""
    lines = [f"# sysctls the lab set in {host.name}'s namespace"]
    return "\n".join(lines + [f"{k} = {v}" for k, v in sysctls(spec, host).items()]) + "\n"


def host_addresses(spec: LabSpec, host: Host) -> list[str]:
    """What `configure` put on the host (for the status table)."""
    own = [spec.interface_address(host.ip)]
    if host.extra_ips:
        own.append(f"+{len(host.extra_ips)} ({host.extra_ips[0]}..{host.extra_ips[-1]})")
    if host.role == "real_server":
        own += [f"{vip}/32 (lo)" for vip in spec.lvs_vips]
    return own
