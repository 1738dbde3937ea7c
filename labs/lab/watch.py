"""Reads keepalived's notify FIFOs in one thread and logs each event on arrival.

keepalived writes lines without timestamps (`INSTANCE "VI_1" MASTER 100`, and for the
checker `RS [192.168.56.111]:tcp:80 [192.168.56.131]:tcp:80 DOWN`), so the moment of
reading is the event's time: the reader is blocked in select() when the line arrives.
"""
from __future__ import annotations

import os
import re
import selectors
import threading
from pathlib import Path

from labs.lab.events import EventLog

ENDPOINT = re.compile(r"\[([^\]]+)\]:(?:tcp|udp):(\d+)")


def parse(line: str) -> tuple[str, dict[str, object]] | None:
    """(kind, fields) of one notify line, or None for lines the lab does not use."""
    words = line.split()
    if len(words) >= 4 and words[0] in ("INSTANCE", "GROUP"):
        return "vrrp", {"instance": words[1].strip('"'), "state": words[2], "priority": int(words[3])}
    if len(words) >= 4 and words[0] == "RS":
        rs, vs = (ENDPOINT.fullmatch(w) for w in words[1:3])
        if rs and vs:
            return "ipvs", {"real_server": f"{rs[1]}:{rs[2]}", "virtual_server": f"{vs[1]}:{vs[2]}", "state": words[3]}
    return None


class SelectorThread:
    """One thread waiting on many file descriptors; a pipe wakes it to stop."""

    def __init__(self, events: EventLog, name: str) -> None:
        self.events = events
        self.sel = selectors.DefaultSelector()
        self.stop_r, self.stop_w = os.pipe()
        self.sel.register(self.stop_r, selectors.EVENT_READ, None)
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        while True:
            for key, _ in self.sel.select():
                if key.data is None:
                    return
                self.ready(key.fd, key.data)

    def ready(self, fd: int, data: object) -> None:
        """Handle a readable descriptor registered with `data`."""
        raise NotImplementedError

    def close(self) -> None:
        if self.thread.is_alive():
            os.write(self.stop_w, b"x")
            self.thread.join(timeout=5)
        os.close(self.stop_r)
        os.close(self.stop_w)
        self.sel.close()


class FifoWatcher(SelectorThread):
    def __init__(self, events: EventLog) -> None:
        super().__init__(events, "fifo-watcher")
        self.fds: list[int] = []
        self.buffers: dict[int, bytes] = {}

    def add(self, path: Path, host: str) -> None:
        """Create and open the FIFO before keepalived starts (it will not write to no reader)."""
        if not path.exists():
            os.mkfifo(path, 0o600)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        # Our own writer end keeps read() from returning EOF whenever keepalived restarts.
        self.fds += [fd, os.open(path, os.O_WRONLY | os.O_NONBLOCK)]
        self.buffers[fd] = b""
        self.sel.register(fd, selectors.EVENT_READ, host)

    def ready(self, fd: int, data: object) -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        lines = (self.buffers[fd] + chunk).split(b"\n")
        self.buffers[fd] = lines.pop()
        for line in lines:
            parsed = parse(line.decode(errors="replace"))
            if parsed:
                kind, fields = parsed
                self.events.record(kind, host=data, **fields)

    def close(self) -> None:
        super().close()
        for fd in self.fds:
            os.close(fd)
