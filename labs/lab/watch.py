"""Reads keepalived's notify FIFOs in one thread and logs each VRRP transition on arrival.

keepalived writes `INSTANCE "VI_1" MASTER 100` lines without timestamps, so the moment of
reading is the event's time: the reader is blocked in select() when the line arrives.
"""
from __future__ import annotations

import os
import selectors
import threading
from pathlib import Path

from labs.events import EventLog


class FifoWatcher:
    def __init__(self, events: EventLog) -> None:
        self.events = events
        self.sel = selectors.DefaultSelector()
        self.fds: list[int] = []
        self.buffers: dict[int, bytes] = {}
        self.stop_r, self.stop_w = os.pipe()
        self.sel.register(self.stop_r, selectors.EVENT_READ, None)
        self.thread = threading.Thread(target=self._run, name="fifo-watcher", daemon=True)

    def add(self, path: Path, host: str) -> None:
        """Create and open the FIFO before keepalived starts (it will not write to no reader)."""
        if not path.exists():
            os.mkfifo(path, 0o600)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        # Our own writer end keeps read() from returning EOF whenever keepalived restarts.
        self.fds += [fd, os.open(path, os.O_WRONLY | os.O_NONBLOCK)]
        self.buffers[fd] = b""
        self.sel.register(fd, selectors.EVENT_READ, host)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        while True:
            for key, _ in self.sel.select():
                if key.data is None:
                    return
                self._read(key.fd, key.data)

    def _read(self, fd: int, host: str) -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        data = self.buffers[fd] + chunk
        *lines, self.buffers[fd] = data.split(b"\n")
        for line in lines:
            words = line.decode(errors="replace").split()
            if len(words) >= 4 and words[0] in ("INSTANCE", "GROUP"):
                self.events.record(
                    "vrrp", host=host, instance=words[1].strip('"'), state=words[2], priority=int(words[3])
                )

    def close(self) -> None:
        if self.thread.is_alive():
            os.write(self.stop_w, b"x")
            self.thread.join(timeout=5)
        for fd in (*self.fds, self.stop_r, self.stop_w):
            os.close(fd)
        self.sel.close()
