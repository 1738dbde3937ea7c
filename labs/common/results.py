"""Run folders under results/: created per run, owned by the invoking user, `latest` kept current."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

from labs.common import jsonfile
from labs.common.errors import LabError
from labs.common.requirements import IPVSADM

DEFAULT_ROOT = Path("results")  # ./results of the working directory (an installed copy never writes into itself)
TOOL_VERSIONS = {"ipvsadm": [IPVSADM, "--version"]}  # the daemons': labs.daemons.version_commands()


# In a results root halab made (and only there): the root is handed to the user with its
# runs. A file, not a note in memory: the process inside User-mode Linux and the one that
# started it both hand results over.
MADE_BY_HALAB = ".made-by-halab"


def make_root(root: Path) -> None:
    """Create the results root if it is missing, marked as halab's."""
    if not root.exists():
        root.mkdir(parents=True, exist_ok=True)
        (root / MADE_BY_HALAB).touch()


def new_folder(root: Path, topology: str, what: str) -> Path:
    """results/<UTC time>-<topology>-<what>/ (a numeric suffix if two runs share a second)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    base = root / f"{stamp}-{topology}-{what}"
    folder, n = base, 1
    while True:
        try:
            make_root(root)
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            n += 1
            folder = base.with_name(f"{base.name}-{n}")
        except PermissionError:
            raise LabError(f"cannot write results under {root}: permission denied; "
                           "pass --results DIR with a folder you can write")


# The kernel's and the runtime's folders (tmpfs, or no files at all): nothing written there
# outlives the machine, and User-mode Linux has its own, so a run's files would vanish.
NOT_ON_DISK = (Path("/proc"), Path("/sys"), Path("/dev"), Path("/run"))


def _writable_place(path: Path, option: str, what: str, file: bool = False) -> None:
    """`path` can be made: not under NOT_ON_DISK, its nearest existing folder (for a `file`, its
    parent's) one we may write."""
    for top in NOT_ON_DISK:
        if path.resolve().is_relative_to(top):
            raise LabError(f"{option} {path} is under {top}, whose files do not stay on disk; "
                           f"pass {option} with {what} on disk")
    existing = path.absolute().parent if file else path.absolute()
    while not os.path.lexists(existing):  # False also where we may not look: not ours to write
        existing = existing.parent
    if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
        raise LabError(f"cannot write {option} {path} ({existing} is not a folder you can write); "
                       f"pass {option} with {what} you can write")


def check_writable(root: Path, option: str = "--results") -> None:
    """Refuse before anything is built: a run that cannot write its results is lost work."""
    if os.path.isdir(root) and not os.access(root, os.W_OK | os.X_OK):  # os.path: False where we may not look
        raise LabError(f"cannot write {option} {root} (not a folder you can write); pass {option} with one you can")
    _writable_place(root, option, "a folder")


def check_output_file(path: Path, option: str) -> None:
    """A file a command writes at its end (--junit-xml): refused now, not after the runs."""
    if os.path.isdir(path):
        raise LabError(f"{option} {path} is a folder; pass {option} with a file name, e.g. {path / 'junit.xml'}")
    _writable_place(path, option, "a file in a folder", file=True)


def check_output_folder(path: Path, option: str, ours: set[str] | None = None) -> None:
    """A folder a command fills (--dump, render's --out): new, empty, or holding only what the
    command writes there (`ours`: names of entries; None: any folder will do), never a file."""
    if os.path.lexists(path) and not os.path.isdir(path):
        raise LabError(f"{option} {path} is a file; pass {option} with a folder (new, or empty)")
    check_writable(path, option)
    if os.path.isdir(path) and ours is not None:
        try:
            others = sorted(set(os.listdir(path)) - ours)
        except OSError as e:
            raise LabError(f"cannot read {option} {path} ({e.strerror}); pass {option} with a folder you can use")
        if others:
            raise LabError(f"{option} {path} holds other files ({', '.join(others[:3])}{', ...' if others[3:] else ''}); "
                           f"pass {option} with a new or empty folder")


def _version(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except OSError as e:
        return f"unavailable ({e.strerror})"
    return ((p.stdout + p.stderr).strip().splitlines() or ["?"])[0]


def _main_module() -> str:
    """labs.run, or labs.bench_lab, ...: the command the run folder came from."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return spec.name if spec is not None and spec.name.startswith("labs.") else "labs.run"


# The command line the user typed, as a JSON list, for a process that runs on their behalf
# (one job of --jobs N, a command inside User-mode Linux, `halab X` rearranging its words):
# run.json's `command` is what they typed, not the internal command line that ran.
COMMAND_ENV = "HALAB_COMMAND"


def typed_command(argv: list[str]) -> list[str]:
    """What the user typed: the command that started this one passed it on
    (COMMAND_ENV), else this process's own command line."""
    passed = os.environ.get(COMMAND_ENV)
    return json.loads(passed) if passed else [Path(sys.executable).name, "-m", _main_module(), *argv]


def tool_versions() -> dict[str, str]:
    """The first line each daemon and tool prints for its version (run.json's `versions`).
    Three process starts, ~0.4 s under User-mode Linux: a lab takes them once, while its
    servers wait out their master-down interval (Lab.up's `idle`), and every run on it
    reuses them."""
    from labs import daemons  # after the requirements check: the daemon classes need jinja2

    return {name: _version(cmd) for name, cmd in {**daemons.version_commands(), **TOOL_VERSIONS}.items()}


def write_run_info(folder: Path, argv: list[str], backend: str, reason: str, **extra: object) -> None:
    """run.json as the run starts; what is known only once the lab is up (its `versions`
    among them) is added by update_run_info."""
    info = {
        "run_id": folder.name,  # the folder's name when made: a renamed copy keeps it
        "command": typed_command(argv),
        "kernel_backend": backend,
        "kernel_reason": reason,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "started": time.time(),
        **extra,
    }
    jsonfile.write(folder / "run.json", info)


def update_run_info(folder: Path, **fields: object) -> None:
    """Add what is only known once the lab is up (e.g. the measured process-start cost)."""
    path = folder / "run.json"
    info = json.loads(path.read_text())
    info.update(fields)
    jsonfile.write(path, info)


def owner() -> tuple[int, int] | None:
    """The user a sudo run acts for: results belong to them, not to root."""
    if os.geteuid() == 0 and "SUDO_UID" in os.environ:
        return int(os.environ["SUDO_UID"]), int(os.environ.get("SUDO_GID", os.environ["SUDO_UID"]))
    return None


def finish(folder: Path, latest: bool = True) -> None:
    """Point results/latest at `folder` (a run) and hand everything to the invoking user."""
    link = folder.parent / "latest"
    if latest:
        tmp = folder.parent / f".latest-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(folder.name)
        os.replace(tmp, link)
    hand_over([folder, link] if latest else [folder])


def entries(root: Path) -> set[Path]:
    """What is in a results root now, to hand over what a run added (see `hand_over`)."""
    return set(root.iterdir()) if root.is_dir() else set()


def hand_over(paths: list[Path]) -> None:
    """Give `paths` (recursively) to the user a sudo run acts for, and result roots we made.
    Never a folder that was there before: --results /tmp must not hand /tmp over."""
    who = owner()
    if not who:
        return
    roots = sorted({p.parent for p in paths if (p.parent / MADE_BY_HALAB).exists()})
    for path in [*(x for top in paths for x in _tree(top)), *roots, *(r / MADE_BY_HALAB for r in roots)]:
        try:
            os.lchown(path, *who)
        except OSError:
            pass


def _tree(top: Path) -> list[Path]:
    """`top` and, for a real folder (not a link to one), everything under it."""
    return [top, *(top.rglob("*") if top.is_dir() and not top.is_symlink() else ())]


def save_traceback(folder: Path, error: BaseException | None = None, name: str = "error.txt") -> Path:
    """`error`'s traceback (default: the exception being handled), kept for a bug report
    while the user sees one line."""
    path = folder / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(traceback.format_exception(error)) if error is not None else traceback.format_exc())
    except OSError:
        traceback.print_exc()
        return Path("(printed above: cannot write it)")
    return path
