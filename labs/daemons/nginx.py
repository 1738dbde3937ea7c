"""nginx on a real server: a page and a header that name the host that answered."""
from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from labs.daemons.base import Daemon, Node, children, pid_alive
from labs.common.errors import LabError
from labs.spec.templating import render_to

SERVED_BY = "X-Served-By"  # the response header naming the real server
START_NGINX = "start-nginx"  # in the host's runtime folder: starts this host's nginx (for check scripts)


class Nginx(Daemon):
    name = "nginx"
    binary, package, version_args = "/usr/sbin/nginx", "nginx", ("-v",)
    log_name = "nginx-error"
    stop_signal = signal.SIGQUIT  # graceful: finish requests, then exit

    @property
    def config_file(self) -> Path:
        return self.config_dir / "nginx.conf"

    @property
    def pid_file(self) -> Path:
        return self.runtime / "nginx.pid"

    def render(self) -> None:
        html = self.runtime / "html"
        temp = self.runtime / "nginx-temp"
        for d in (html, temp):
            d.mkdir(parents=True, exist_ok=True, mode=0o755)
        render_to(html / "index.html", "index.html.j2", host=self.host.name, ip=self.host.ip, topology=self.spec.name)
        render_to(
            self.config_file, "nginx.conf.j2",
            host=self.host.name, pid_file=self.pid_file, error_log=self.log,
            access_log=self.paths.log(self.host.name, "nginx-access"), temp_dir=temp,
            html_dir=html, served_by_header=SERVED_BY,
        )
        # A lab file's check scripts start nginx through this (its paths are the run's).
        start = self.runtime / START_NGINX
        start.write_text(f"#!/bin/sh\nexec {subprocess.list2cmdline(self.start_command())}\n")
        start.chmod(0o755)

    @property
    def disabled_config(self) -> Path:
        return self.config_file.with_name("nginx.conf.disabled")

    def block_restart(self) -> None:
        """Move the config aside: `nginx -c` (the check script's restart) then fails."""
        self.config_file.rename(self.disabled_config)

    def allow_restart(self) -> None:
        if self.disabled_config.exists():
            self.disabled_config.rename(self.config_file)

    def processes(self) -> list[int]:
        """The master and its workers: killing only the master leaves workers serving."""
        pid = self.pid
        return [pid, *children(pid)] if pid and pid_alive(pid) else []

    def start_command(self) -> list[str]:
        # -e: errors before the config is read go to this host's log, not /var/log/nginx.
        return [self.binary, "-c", str(self.config_file), "-e", str(self.log)]

    def check_command(self) -> list[str]:
        return [self.binary, "-t", "-q", "-c", str(self.config_file), "-e", str(self.log)]

    def start(self, node: Node) -> None:
        """Start nginx; if the port is taken because this host's check script started it in
        the same moment (a heal that restored its config), that nginx is the one."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out, err, code = node.pexec(self.start_command())
        if code != 0 and "Address already in use" in err + out:
            try:
                self.wait_started(timeout=2.0)
                return
            except LabError:
                pass
        if code != 0:
            raise LabError(f"nginx on {self.host.name} failed to start ({self.config_file}): {' '.join((err + out).split())}")
