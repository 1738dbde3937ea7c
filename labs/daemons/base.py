"""What every lab daemon has: a host, its files, a dry-run check, a start and a stop.

Modelled on IPMininet's daemon classes (one place per daemon), minus their habit of
killing by name: a daemon here is found only through the pid it recorded.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Protocol, Sequence

from labs.common.errors import LabError
from labs.lab.paths import RunPaths
from labs.spec import Host, LabSpec


class Node(Protocol):
    """A Mininet host: runs commands inside its network namespace."""

    name: str
    pid: int

    def popen(self, *args: Any, **kwargs: Any) -> Any: ...

    def pexec(self, *args: Any, **kwargs: Any) -> tuple[str, str, int]: ...


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait until `pid` has exited; True if it did within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)


def children(pid: int) -> list[int]:
    """Direct children of `pid` (nginx's workers), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def tail(path: Path, lines: int = 12) -> str:
    try:
        return "".join(path.read_text(errors="replace").splitlines(keepends=True)[-lines:]).rstrip()
    except OSError:
        return f"(no log at {path})"


class Daemon(ABC):
    """One daemon on one lab host."""

    name: str = ""
    log_name: str = ""  # defaults to `name`
    binary: str = ""  # the program, for the requirements check
    package: str = ""  # the Debian package that provides it
    version_args: tuple[str, ...] = ()  # `binary` + these print the version (run.json)
    stop_signal = signal.SIGTERM
    stop_timeout = 10.0

    def __init__(self, spec: LabSpec, host: Host, paths: RunPaths) -> None:
        self.spec = spec
        self.host = host
        self.paths = paths
        self.config_dir = paths.configs(host.name)
        self.runtime = paths.host_runtime(host.name)
        self.log = paths.log(host.name, self.log_name or self.name)

    @property
    @abstractmethod
    def pid_file(self) -> Path:
        """The main process's pid file: the only handle the lab uses to find it."""

    @abstractmethod
    def render(self) -> None:
        """Write this host's configuration (and scripts) for this daemon."""

    @abstractmethod
    def check_command(self) -> list[str]:
        """The daemon's own dry-run check of the rendered configuration."""

    @property
    @abstractmethod
    def config_file(self) -> Path: ...

    @abstractmethod
    def start(self, node: Node) -> None:
        """Start the daemon inside the host's namespace."""

    @classmethod
    def wanted(cls, spec: LabSpec, host: Host) -> bool:
        """Whether `host` runs this daemon besides its role saying so (default: always)."""
        return True

    def tolerated(self, code: int) -> bool:
        """Whether a non-zero check status may still run (only some variants allow one)."""
        return False

    def check(self, node: Node) -> str | None:
        """Run the daemon's own config check; stop bring-up with its message on failure.
        Returns the message of a failure the variant tolerates, to be shown."""
        return self.judge_check(*node.pexec(self.check_command()))

    def judge_check(self, out: str, err: str, code: int) -> str | None:
        """What the config check's output means (see `check`)."""
        message = " ".join((err + out).split()) or "(no output)"
        if code != 0 and self.tolerated(code):
            why = "config_errors_ok in the lab file" if self.spec.from_lab_file else f"{self.spec.variant} variant"
            return f"{self.name} -t on {self.host.name} exit {code}, run anyway ({why}): {message}"
        if code != 0:
            raise LabError(
                f"{self.name} rejects {self.config_file} on {self.host.name} "
                f"(`{' '.join(self.check_command())}` exit {code}): {message}"
            )
        return None

    @property
    def pid(self) -> int | None:
        return read_pid(self.pid_file)

    def running(self) -> bool:
        return pid_alive(self.pid)

    def wait_started(self, timeout: float = 15.0) -> int:
        """Wait for the pid file to name a live process; fail with the log's tail."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.pid
            if pid_alive(pid):
                assert pid is not None
                return pid
            time.sleep(0.05)
        raise LabError(
            f"{self.name} on {self.host.name} did not start within {timeout:.0f} s; "
            f"last lines of {self.log}:\n{tail(self.log)}"
        )

    def stop(self) -> None:
        """Signal the recorded pid and wait; a daemon that ignores it is killed."""
        stop_all([self])

    def reap(self) -> None:
        """After it stopped: collect what this process started directly (no zombies)."""


def check_all(checks: Sequence[tuple[Daemon, Node]]) -> list[str]:
    """Every daemon's config check in its host, all started together, then judged in
    order (the first rejection raises): under User-mode Linux part of a process start is
    the host kernel's work, on another CPU, so starts overlap — six `keepalived --version`
    took 1.47 s one by one, 0.72 s together (measured). Returns the tolerated failures."""
    started = [(d, node.popen(d.check_command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)) for d, node in checks]
    outcomes = []
    for d, proc in started:
        out, err = proc.communicate()
        outcomes.append((d, out.decode(errors="replace"), err.decode(errors="replace"), proc.wait()))
    return [w for w in (d.judge_check(out, err, code) for d, out, err, code in outcomes) if w]


def stop_all(daemons: Sequence[Daemon], sig: signal.Signals | None = None) -> None:
    """Stop daemons together: signal every recorded pid (with each one's stop_signal, or
    `sig`), wait for all on one deadline, kill what is left. One by one, 64 daemons on a
    loaded UML kernel took many minutes."""
    pids = []
    for d in daemons:
        pid = d.pid
        if pid_alive(pid):
            assert pid is not None
            try:
                os.kill(pid, sig or d.stop_signal)
            except ProcessLookupError:
                continue
            pids.append((pid, d.stop_timeout))
    if pids:
        _wait_or_kill(pids)
    for d in daemons:
        d.reap()


def _wait_or_kill(pids: list[tuple[int, float]]) -> None:
    deadline = time.monotonic() + max(t for _, t in pids)
    while time.monotonic() < deadline and any(pid_alive(p) for p, _ in pids):
        time.sleep(0.05)
    for pid, _ in pids:
        if pid_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_gone(pid, 2.0)
