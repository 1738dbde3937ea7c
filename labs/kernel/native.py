"""The host's own kernel: usable when we are root and it has IPVS (or the lab has no
virtual servers: a single VRRP tier, as a lab file may describe, needs none)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

IPVS_PROC = Path("/proc/net/ip_vs")


def has_ipvs() -> bool:
    """IPVS is built in or loaded, or (as root) `modprobe ip_vs` can load it."""
    if IPVS_PROC.exists():
        return True
    modprobe = shutil.which("modprobe") or "/usr/sbin/modprobe"
    if os.geteuid() != 0 or not os.path.exists(modprobe):
        return False
    subprocess.run([modprobe, "-q", "ip_vs"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return IPVS_PROC.exists()


def problem(ipvs: bool = True) -> str | None:
    """Why the native backend cannot run here (for a lab that needs IPVS, or not), or None."""
    if os.geteuid() != 0:
        return "it needs root (run with sudo)"
    if ipvs and not has_ipvs():
        return "this kernel has no IPVS (CONFIG_IP_VS; /proc/net/ip_vs is missing and modprobe ip_vs failed)"
    return None
