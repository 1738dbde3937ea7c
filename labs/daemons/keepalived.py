"""keepalived on one lab host: VRRP instances, and on directors the IPVS virtual servers."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from labs.daemons.base import Daemon, Node
from labs.daemons.nginx import START_NGINX, Nginx
from labs.spec import Host, HostFiles, LabSpec
from labs.spec.templating import render_to

# Messages of `keepalived -t` that only say the config was tested outside the lab (the
# interface exists only in the lab's namespaces, where bring-up checks it again).
OUTSIDE_THE_LAB = re.compile(r"interface \S+ for \S+ \S+ doesn't exist|Non-existent interface specified")
CHECK_SCRIPT = "check_nginx.sh"
OPERATOR_SCRIPT_DIR = Path("/etc/keepalived")  # where a dumped config calls its check script from


class Keepalived(Daemon):
    name = "keepalived"
    binary, package, version_args = "/usr/sbin/keepalived", "keepalived", ("--version",)
    changes: tuple[str, ...] = ()  # what the lab changed in a config as written (render sets it)

    @classmethod
    def wanted(cls, spec: LabSpec, host: Host) -> bool:
        """A lab file's real server may run nginx alone (no keepalived.conf given)."""
        return spec.runs_keepalived(host.name)

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
        files = self.spec.files_of(self.host.name)
        if files is not None:
            self._render_as_written(files)
            return
        self._render_config(self.config_file, self.check_script, self.notify_fifo)
        if self.check_script is not None:
            nginx = Nginx(self.spec, self.host, self.paths)
            recorded = self._render_check_script(self.config_dir / CHECK_SCRIPT, nginx.pid_file, self.pid_file,
                                                 subprocess.list2cmdline(nginx.start_command()))
            self._install_script(recorded)

    def _render_config(self, path: Path, check_script: Path | None, notify_fifo: Path | None) -> Path:
        return render_to(
            path, "keepalived.conf.j2",
            host=self.host.name, topology=self.spec.name, router_id=self.spec.router_id(self.host.name),
            interface=self.spec.interface, timers=self.spec.timers,
            instances=self.spec.instances_of(self.host.name),
            virtual_servers=self.spec.virtual_servers if self.host.role == "director" else (),
            check_script=check_script, notify_fifo=notify_fifo,
            retry_keyword=self.spec.checker_retry_keyword,
            unicast=self.spec.unicast, address=self.host.ip, peers={h.name: h.ip for h in self.spec.hosts},
        )

    def _render_check_script(self, path: Path, nginx_pid: str | Path, keepalived_pid: str | Path, nginx_start: str) -> Path:
        return render_to(
            path, "check_nginx.sh.j2", mode=0o755,
            host=self.host.name, restart_wait=self.spec.timers.restart_wait,
            nginx_pid=nginx_pid, keepalived_pid=keepalived_pid, nginx_start=nginx_start,
            stops_keepalived=self.spec.script_stops_keepalived,
        )

    def _install_script(self, recorded: Path) -> Path:
        """The copy keepalived runs: root-owned, in a root-owned folder (script security)."""
        installed = self.runtime / recorded.name
        shutil.copyfile(recorded, installed)
        installed.chmod(0o755)
        return installed

    def write_as_operator(self, folder: Path) -> list[Path]:
        """This host's config (and check script) as an operator keeps them, for a lab file
        (`--dump`): the script at OPERATOR_SCRIPT_DIR, no notify FIFO, and a script that finds
        nginx's and keepalived's pid files and `start-nginx` next to itself, where the lab
        puts them (docs/lab-files.md)."""
        script = OPERATOR_SCRIPT_DIR / CHECK_SCRIPT if self.check_script is not None else None
        out = [self._render_config(folder / "keepalived.conf", script, None)]
        if script is not None:
            here = "${0%/*}"
            out.append(self._render_check_script(folder / CHECK_SCRIPT, f"{here}/nginx.pid", f"{here}/keepalived.pid",
                                                 f'"{here}/{START_NGINX}"'))
        return out

    def _render_as_written(self, files: HostFiles) -> None:
        """The user's config as written, changed only where the lab needs it; each change
        is kept in `self.changes` (run.json's config_changes)."""
        text, changes = files.text, list(files.changes)
        text, renamed = _one_interface(text, self.spec.interface)
        changes += [f"interface {old} -> {self.spec.interface} (the lab's interface)" for old in renamed]
        self.config_dir.mkdir(parents=True, exist_ok=True)
        for source in map(Path, files.scripts):
            recorded = self.config_dir / source.name
            shutil.copyfile(source, recorded)
            recorded.chmod(0o755)
            installed = self._install_script(recorded)
            text, moved = _map_script(text, source.name, installed)
            changes += [f"script {old} -> {installed} (the host's copy)" for old in moved]
        text, fifo = _with_notify_fifo(text, self.notify_fifo)
        changes.append(fifo)
        self.config_file.write_text(text)
        self.config_file.chmod(0o644)
        self.changes = tuple(changes)

    @property
    def config_id(self) -> str | None:
        files = self.spec.files_of(self.host.name)
        return files.config_id if files else None

    def check_command(self) -> list[str]:
        return config_test_command(self.config_file, self.config_id)

    def tolerated(self, code: int) -> bool:
        """keepalived -t exit 5 (errors it would run with) or 6 (scripts without
        enable_script_security: it runs them, as root); a variant or lab file may run such
        configs on purpose."""
        return code in (5, 6) and self.spec.config_errors_ok

    def start_command(self) -> list[str]:
        return [
            self.binary, "--dont-fork", "--log-console", "--log-detail", "--no-syslog",
            "--use-file", str(self.config_file),
            "--pid", str(self.pid_file),
            "--vrrp_pid", str(self.runtime / "vrrp.pid"),
            "--checkers_pid", str(self.runtime / "checkers.pid"),
            *(("--config-id", self.config_id) if self.config_id else ()),
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


def config_test_command(config: Path, config_id: str | None = None) -> list[str]:
    """keepalived -t on a config, with the config id it runs with (`@ID` lines)."""
    return [Keepalived.binary, "--config-test", "-f", str(config), *(("--config-id", config_id) if config_id else ())]


def config_test(config: Path, config_id: str | None = None) -> tuple[int, list[str]]:
    """keepalived -t run here, outside the lab: its exit status and its messages, less
    those that only say an interface of the lab does not exist here."""
    p = subprocess.run(config_test_command(config, config_id), capture_output=True, text=True)
    lines = [ln.strip() for ln in (p.stdout + p.stderr).splitlines() if ln.strip() and not OUTSIDE_THE_LAB.search(ln)]
    return p.returncode, lines


def _one_interface(text: str, interface: str) -> tuple[str, list[str]]:
    """Every `interface NAME` (and lvs_sync_daemon's) renamed to the lab's one interface."""
    renamed: list[str] = []

    def swap(m: re.Match[str]) -> str:
        if m.group(2) != interface:
            renamed.append(m.group(2))
            return m.group(1) + interface
        return m.group(0)

    text = re.sub(r"(^\s*(?:interface|lvs_sync_daemon)\s+)(\S+)", swap, text, flags=re.M)
    return text, sorted(set(renamed))


def _map_script(text: str, name: str, installed: Path) -> tuple[str, list[str]]:
    """Absolute paths that end in /NAME (how the config calls the script) -> the host's copy."""
    moved: list[str] = []

    def swap(m: re.Match[str]) -> str:
        moved.append(m.group(0))
        return str(installed)

    text = re.sub(rf"(?<![\w.-])/[^\s\"']*/{re.escape(name)}(?![\w.-])", swap, text)
    return text, sorted(set(moved))


def _with_notify_fifo(text: str, fifo: Path) -> tuple[str, str]:
    """The lab reads every transition from keepalived's notify FIFO: set it (a config's own
    notify_fifo is replaced; keepalived has one)."""
    if re.search(r"^\s*notify_fifo\s", text, re.M):
        return (re.sub(r"^(\s*notify_fifo\s+)\S+.*$", lambda m: m.group(1) + str(fifo), text, count=1, flags=re.M),
                f"notify_fifo -> {fifo} (the lab reads the transitions from it; the config's own FIFO replaced)")
    if re.search(r"^\s*global_defs\s*\{", text, re.M):
        return (re.sub(r"^(\s*global_defs\s*\{)", lambda m: m.group(1) + f"\n    notify_fifo {fifo}", text, count=1,
                       flags=re.M), f"notify_fifo {fifo} added to global_defs (the lab reads the transitions from it)")
    return (f"global_defs {{\n    notify_fifo {fifo}\n}}\n" + text,
            f"global_defs with notify_fifo {fifo} added (the lab reads the transitions from it)")
