"""The sysctls the lab sets in each host's namespace, and their record beside the host's
configs (RECORD, sysctl.conf): decided here once for the lab (labs.lab.network sets them),
for real machines (labs.render), for lint (which holds a DR real server's recorded ARP
settings against the same DR_ARP) and for the model (which reads the IPVS sync threshold
back). Only the spec is imported: lint and the analysis need no pyroute2.
"""
from __future__ import annotations

import re

from labs.spec import Host, LabSpec

RECORD = "sysctl.conf"  # in a host's configs folder
# DR real servers must not answer ARP for the LVS VIPs they hold on lo (arp_ignore=1) and
# must not use them as ARP source (arp_announce=2); the seed never sets these.
DR_ARP = (("arp_ignore", 1), ("arp_announce", 2))


def of_host(spec: LabSpec, host: Host) -> dict[str, str]:
    """The sysctls the lab sets in a host's namespace: the DR real servers' ARP settings;
    on directors IPVS's expire_nodest_conn (a new connection that reuses the port of one
    bound to a real server the checker removed is scheduled anew instead of dropped)."""
    if host.role == "director":
        out = {"net.ipv4.vs.expire_nodest_conn": "1"} if spec.expire_nodest_conn else {}
        return out | ipvs_sync(spec)
    if host.role != "real_server" or not spec.arp_sysctls:
        return {}
    return {f"net.ipv4.conf.{scope}.{key}": str(value) for scope in ("all", spec.interface) for key, value in DR_ARP}


def ipvs_sync(spec: LabSpec) -> dict[str, str]:
    """The IPVS sync sysctls a spec changes from the kernel's defaults (3 50, 0)."""
    t, out = spec.timers, {}
    if (t.ipvs_sync_threshold, t.ipvs_sync_period) != (3, 50):
        out["net.ipv4.vs.sync_threshold"] = f"{t.ipvs_sync_threshold} {t.ipvs_sync_period}"
    if t.ipvs_sync_refresh_period:
        out["net.ipv4.vs.sync_refresh_period"] = str(t.ipvs_sync_refresh_period)
    return out


def record(spec: LabSpec, host: Host) -> str:
    """RECORD's text: what the lab set in the host's namespace."""
    lines = [f"# sysctls the lab set in {host.name}'s namespace"]
    return "\n".join(lines + [f"{k} = {v}" for k, v in of_host(spec, host).items()]) + "\n"


def read(text: str) -> dict[str, str]:
    """A sysctl.conf's settings, key -> the value's first word: the number its readers
    compare (sync_threshold's `3 50` gives 3); comments skipped."""
    return dict(re.findall(r"^\s*([\w.]+)\s*=[ \t]*(\S+)", text, re.M))
