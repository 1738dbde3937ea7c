"""labs.render: the lab's configs for real machines, and --apply on a scratch "machine"
(a private network and mount namespace standing in for a VM)."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

from conftest import REPO


def test_render_writes_every_hosts_configs(tmp_path):
    p = subprocess.run([sys.executable, "-m", "labs.render", "dual_master", "--out", str(tmp_path)],
                       cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    for host in ("lvs1", "lvs2", "server1", "server2"):
        assert "vrrp_instance VI_1" in (tmp_path / "configs" / host / "keepalived.conf").read_text()
    assert "arp_ignore = 1" in (tmp_path / "configs" / "server1" / "sysctl.conf").read_text()
    script = (tmp_path / "configs" / "server1" / "keepalived.conf").read_text()
    assert f'script "{tmp_path}/runtime/server1/check_nginx.sh"' in script


@pytest.mark.root
def test_apply_configures_the_machine_and_starts_its_daemons(tmp_path):
    script = textwrap.dedent(f"""
        set -e
        mount -t tmpfs tmpfs /run
        ip link set lo up
        ip link add enp0s8 type veth peer name peer0
        ip link set enp0s8 up; ip link set peer0 up
        ip addr add 192.168.56.101/24 dev enp0s8
        {sys.executable} -m labs.render dual_master --out {tmp_path} --apply server1
        sleep 5
        ip -br addr show
        sysctl net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce
        curl -s -D - http://192.168.56.111/ || true
        for f in /run/halab/machine/server1/keepalived.pid /run/halab/machine/server1/nginx.pid; do
            kill "$(cat $f)"
        done
        sleep 1
    """)
    p = subprocess.run(["unshare", "--net", "--mount", "sh", "-c", script], cwd=REPO, capture_output=True, text=True,
                       timeout=120)
    out = p.stdout
    assert p.returncode == 0, out + p.stderr
    assert "nginx running on server1" in out and "keepalived running on server1" in out
    assert re.search(r"^lo .*192\.168\.56\.131/32 192\.168\.56\.132/32", out, re.M)
    assert re.search(r"^enp0s8@peer0 .*192\.168\.56\.111/32", out, re.M), "alone, server1 becomes MASTER for its VIP"
    assert "arp_ignore = 1" in out and "arp_announce = 2" in out
    assert "X-Served-By: server1" in out


def test_render_takes_the_lab_as_run_does(tmp_path):
    """--set, --servers and lab files, as labs.run builds them."""
    def render(*args: str, into: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "labs.render", *args, "--out", str(tmp_path / into)],
                              cwd=REPO, capture_output=True, text=True)

    p = render("dual_master", "--set", "advert_int=0.5", into="fast")
    assert p.returncode == 0, p.stderr
    assert "advert_int 0.5" in (tmp_path / "fast" / "configs" / "lvs1" / "keepalived.conf").read_text()
    p = render("scale", "--servers", "4", into="scale")
    assert p.returncode == 0 and len(list((tmp_path / "scale" / "configs").glob("*/keepalived.conf"))) == 6, p.stderr
    p = render(str(REPO / "examples" / "article" / "article.toml"), into="article")
    assert p.returncode == 0, p.stderr
    assert {d.name for d in (tmp_path / "article" / "configs").iterdir()} >= {"lvs1", "lvs2", "server1", "server2"}
