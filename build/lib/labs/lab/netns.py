"""Named network namespaces for Mininet hosts, and entering one from a thread.

Mininet's hosts are unnamed namespaces; binding each to /run/netns/NAME (pyroute2's
`attach`, what `ip netns attach` does) lets `ip netns exec lvs1 ...` reach them, and lets
this process open sockets inside them without starting a process per request.
"""
from __future__ import annotations

import ctypes
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pyroute2 import netns as pr_netns

RUN_DIR = Path(pr_netns.NETNS_RUN_DIR)
MNT_DETACH = 2  # <sys/mount.h>

Identity = tuple[int, int]  # (st_dev, st_ino) of a namespace file: equal means same namespace


def identity(path: str | Path) -> Identity:
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def of_pid(pid: int) -> Identity:
    return identity(f"/proc/{pid}/ns/net")


def named(name: str) -> Identity | None:
    """The namespace bound at /run/netns/NAME, or None if there is no such name."""
    try:
        return identity(RUN_DIR / name)
    except OSError:
        return None


def attach(name: str, pid: int) -> None:
    pr_netns.attach(name, pid)


def run_dir_state() -> tuple[bool, bool]:
    """(does /run/netns exist, is it a mount point): naming a namespace makes both true,
    as `ip netns add` does; what was not so before a run is undone after it."""
    where = str(RUN_DIR.resolve())  # pyroute2 says /var/run/netns; mountinfo says /run/netns
    mounted = any(line.split()[4] == where for line in Path("/proc/self/mountinfo").read_text().splitlines())
    return RUN_DIR.is_dir(), mounted


def release_run_dir(existed: bool, mounted: bool) -> list[str]:
    """Undo what naming did to /run/netns, unless something else has named a namespace since."""
    if RUN_DIR.is_dir() and any(RUN_DIR.iterdir()):
        return []
    done = []
    if not mounted and run_dir_state()[1]:
        if ctypes.CDLL(None, use_errno=True).umount2(str(RUN_DIR).encode(), MNT_DETACH) != 0:
            return [f"nothing: cannot unmount {RUN_DIR} ({os.strerror(ctypes.get_errno())})"]
        done.append(f"mount {RUN_DIR}")
    if not existed and RUN_DIR.is_dir():
        try:
            RUN_DIR.rmdir()
        except OSError as e:
            return [*done, f"nothing more: cannot remove {RUN_DIR} ({e.strerror})"]
        done.append(f"folder {RUN_DIR}")
    return done


def detach(name: str) -> None:
    pr_netns.remove(name)


@contextmanager
def entered(name: str | None) -> Iterator[None]:
    """Run the block (this thread only) inside namespace NAME (or a namespace file's
    path; None: stay where we are); sockets made there stay there."""
    if name is None:
        yield
        return
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        pr_netns.setns(name if "/" in name else str(RUN_DIR / name), flags=0)
        yield
    finally:
        pr_netns.setns(own, flags=0)
        os.close(own)


def processes_in(identities: set[Identity]) -> list[int]:
    """Every process whose network namespace is one of `identities`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if identity(entry / "ns" / "net") in identities:
                found.append(int(entry.name))
        except OSError:
            continue
    return found
