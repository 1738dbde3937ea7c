"""keepalived -t and nginx -t on the rendered files: good configs pass, broken ones stop
bring-up with the daemon's own message and the file's path (needs root: a scratch
network namespace holding the lab's interface name)."""
from __future__ import annotations

import subprocess

import pytest

from labs.daemons.keepalived import Keepalived
from labs.daemons.nginx import Nginx
from labs.common.errors import LabError
from labs.lab.paths import RunPaths
from topologies import dual_master

pytestmark = pytest.mark.root


class ScratchNode:
    """Runs a command in a fresh network namespace that has an `enp0s8`, like a lab host."""

    name = "scratch"
    pid = 0

    def pexec(self, argv):
        script = 'ip link add enp0s8 type veth peer name peer0 && exec "$@"'
        p = subprocess.run(["unshare", "--net", "sh", "-c", script, "sh", *argv], capture_output=True, text=True)
        return p.stdout, p.stderr, p.returncode


@pytest.fixture
def daemons(tmp_path):
    spec = dual_master.spec()
    paths = RunPaths(tmp_path / "results", tmp_path / "run")
    paths.logs.mkdir(parents=True)
    out = []
    for host in (*spec.directors, *spec.real_servers):
        d = Keepalived(spec, host, paths)
        d.render()
        out.append(d)
        if host.role == "real_server":
            n = Nginx(spec, host, paths)
            n.render()
            out.append(n)
    return out


def test_rendered_configs_pass_the_daemons_checks(daemons):
    for d in daemons:
        d.check(ScratchNode())


def test_keepalived_error_is_reported_with_its_message_and_path(daemons):
    ka = next(d for d in daemons if isinstance(d, Keepalived) and d.host.name == "lvs1")
    text = ka.config_file.read_text().replace("retry 2", "nb_get_retry 2")
    ka.config_file.write_text(text)
    with pytest.raises(LabError) as e:
        ka.check(ScratchNode())
    message = str(e.value)
    assert str(ka.config_file) in message and "nb_get_retry" in message and "lvs1" in message


def test_nginx_error_is_reported_with_its_message_and_path(daemons):
    ng = next(d for d in daemons if isinstance(d, Nginx))
    ng.config_file.write_text(ng.config_file.read_text().replace("worker_processes 1;", "worker_processes one;"))
    with pytest.raises(LabError) as e:
        ng.check(ScratchNode())
    assert str(ng.config_file) in str(e.value) and "worker_processes" in str(e.value)
