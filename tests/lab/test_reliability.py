"""Stopping a run from outside, and the host's own network state around a run."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lab.helpers import REPO, command, leftovers, load, run_folder
from topologies import dual_master

pytestmark = pytest.mark.halab_lab
HOSTS = [h.name for h in dual_master.spec().hosts]


def host_state() -> dict[str, str]:
    """The root namespace's addresses, routes, rules, IPv4 sysctls, nftables ruleset and mounts."""
    commands = {
        "addr": ["ip", "-o", "addr"], "route": ["ip", "route", "show", "table", "all"], "rule": ["ip", "rule"],
        "sysctl": ["sysctl", "net.ipv4.ip_forward", "net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce",
                   "net.ipv4.conf.all.rp_filter"],
        "nft": ["nft", "list", "ruleset"], "netns": ["ip", "netns", "list"],
    }
    state = {k: subprocess.run(v, capture_output=True, text=True).stdout for k, v in commands.items()}
    state["mounts"] = "\n".join(" ".join(m.split()[3:5]) for m in Path("/proc/self/mountinfo").read_text().splitlines())
    return state


@pytest.mark.root
def test_host_untouched_even_with_its_own_192_168_56_interface(tmp_path):
    """A VirtualBox host has 192.168.56.1/24 itself: the lab must neither need nor touch it."""
    subprocess.run(["ip", "link", "add", "halabt0", "type", "veth", "peer", "name", "halabt1"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", "192.168.56.1/24", "dev", "halabt0"], check=True)
        subprocess.run(["ip", "link", "set", "halabt0", "up"], check=True)
        before = host_state()
        p = subprocess.run(command("dual_master", "--check", "--results", str(tmp_path)), cwd=REPO,
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr
        after = host_state()
        for key in before:
            assert after[key] == before[key], key
        rx = int(Path("/sys/class/net/halabt0/statistics/rx_packets").read_text())
        assert rx == 0, "nothing of the lab's traffic reached the host's own 192.168.56.0/24"
    finally:
        subprocess.run(["ip", "link", "del", "halabt0"], check=False)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_during_a_scenario_keeps_what_was_recorded(tmp_path, stop):
    """SIGTERM, or the SIGHUP of a closed terminal: the run tears down and keeps its files."""
    proc = subprocess.Popen(command("dual_master", "--scenario", "stop_keepalived", "--results", str(tmp_path)),
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if "heal;" in line:  # the fault was recorded seconds ago
            proc.send_signal(stop)
            break
    rest, _ = proc.communicate(timeout=120)
    assert proc.returncode == 128 + stop, "".join(seen) + rest
    folder = run_folder(tmp_path)
    assert load(folder, "run.json")["scenario"] == "stop_keepalived"
    assert (folder / "probes.csv").read_text().count("\n") > 10, "the probes recorded before the stop are kept"
    p = subprocess.run([sys.executable, "-m", "labs.analyze", str(folder)], cwd=REPO, capture_output=True, text=True)
    assert p.returncode in (0, 1) and "stop_keepalived@lvs1" in p.stdout, p.stderr
    assert leftovers(HOSTS) == []
