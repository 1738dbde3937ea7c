"""keepalived on one lab host: VRRP instances, and on directors the IPVS virtual servers."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from labs.daemons.base import Daemon, Node
from labs.daemons.nginx import Nginx
from labs.templating import render_to

BINARY = "/usr/sbin/keepalived"
CHECK_SCRIPT = "check_nginx.sh"


class Keepalived(Daemon):
    name = "keepalived"
    binary, package, version_args = BINARY, "keepalived", ("--version",)

    @property
    def config_file(self) -> Path:
        return self.config_dir / "keepalived.conf"

    @property
    def pid_file(self) -> Path:
        return self.runtime / "keepalived.pid"

    @property
    def notify_fifo(self) -> Path:
        """keepalived writes a line here on every VRRP transition and checker change."""
        return self.runtime / "notify.fifo"

    @property
    def check_script(self) -> Path | None:
        """Real servers track nginx with the seed's script; it must live on a root-owned path."""
        return self.runtime / CHECK_SCRIPT if self.host.role == "real_server" else None

    def render(self) -> None:
        self.runtime.mkdir(parents=True, exist_ok=True, mode=0o755)
        render_to(
            self.config_file, "keepalived.conf.j2",
            host=self.host.name, topology=self.spec.name, router_id=self.spec.router_id(self.host.name),
            interface=self.spec.interface, timers=self.spec.timers,
            instances=self.spec.instances_of(self.host.name),
            virtual_servers=self.spec.virtual_servers if self.host.role == "director" else (),
            check_script=self.check_script, notify_fifo=self.notify_fifo,
            retry_keyword=self.spec.checker_retry_keyword,
            unicast=self.spec.unicast, address=self.host.ip, peers={h.name: h.ip for h in self.spec.hosts},
        )
        if self.check_script is not None:
            nginx = Nginx(self.spec, self.host, self.paths)
            recorded = render_to(
                self.config_dir / CHECK_SCRIPT, "check_nginx.sh.j2", mode=0o755,
                host=self.host.name, restart_wait=self.spec.timers.restart_wait,
                nginx_pid=nginx.pid_file, keepalived_pid=self.pid_file,
                nginx_start=subprocess.list2cmdline(nginx.start_command()),
                stops_keepalived=self.spec.script_stops_keepalived,
            )
            # The copy keepalived runs: root-owned, in a root-owned folder (script security).
            shutil.copyfile(recorded, self.check_script)
            self.check_script.chmod(0o755)

    def check_command(self) -> list[str]:
        return [BINARY, "--config-test", "-f", str(self.config_file)]

    def tolerated(self, code: int) -> bool:
        """keepalived -t exit 5: errors it would run with; a variant may run them on purpose."""
        return code == 5 and self.spec.config_errors_ok

    def start_command(self) -> list[str]:
        return [
            BINARY, "--dont-fork", "--log-console", "--log-detail", "--no-syslog",
            "--use-file", str(self.config_file),
            "--pid", str(self.pid_file),
            "--vrrp_pid", str(self.runtime / "vrrp.pid"),
            "--checkers_pid", str(self.runtime / "checkers.pid"),
        ]

    def start(self, node: Node) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = node.popen(self.start_command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    def reap(self) -> None:
        """Also stops a keepalived too slow to have written its pid file yet (a loaded
        kernel at bring-up), which waiting alone would wait on for ever."""
        proc = getattr(self, "proc", None)
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
