"""Every command under an interpreter that lacks its libraries (pyenv, conda, a plain venv): one line
naming the missing module and the interpreter to use instead, exit 2, never a traceback."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from labs.common import requirements
from labs.common.command import entry

# every `python -m labs.X`: the modules with a __main__ block
COMMANDS = sorted(".".join(p.relative_to(REPO).with_suffix("").parts) for p in (REPO / "labs").rglob("*.py")
                  if 'if __name__ == "__main__":' in p.read_text(encoding="utf-8"))
# these import a library at once: under the bare interpreter each must stop with the one line
NEEDS = {  # command and a harmless argument (nothing is built) -> the library it stops at
    ("labs.plot", "--help"): "matplotlib",
    ("labs.compare", "--help"): "matplotlib",
    ("labs.lint", "--help"): "jinja2",
    ("labs.render", "--help"): "jinja2",
    ("labs.run", "--list"): "jinja2",  # the scenarios' faults use the daemons' classes; pyroute2 only to act
    ("labs.sweep", "--help"): "matplotlib",
    ("labs.housekeeping", "--help"): "pyroute2",
    ("labs.bench_lab", "spread nosuch"): "jinja2",  # fails while reading the topology, before any lab
    ("labs.halab", "plot --help"): "matplotlib",
    ("labs.halab", "run --list"): "jinja2",
}
CONSOLE_SCRIPT = """import re, sys
from labs.halab import main
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(main())
"""  # what `pip install .` writes as bin/halab


@pytest.fixture(scope="session")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv without system site packages: it sees none of Debian's python3-* packages."""
    where = tmp_path_factory.mktemp("bare") / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], capture_output=True, text=True)
    python = where / "bin" / "python"
    if made.returncode != 0 or not python.exists():
        pytest.skip(f"cannot make a venv with {sys.executable}: {made.stderr.strip()[-200:]}")
    seen = subprocess.run([str(python), "-c", "import importlib.util as u, sys; "
                           f"print(*[m for m in {sorted(requirements.LIBRARIES)} if u.find_spec(m)])"],
                          capture_output=True, text=True, env=clean_env())
    if seen.stdout.strip():
        pytest.skip(f"a venv without system site packages still imports {seen.stdout.strip()}")
    return python


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return {**env, **extra}


def one_line(p: subprocess.CompletedProcess[str], module: str, command: str, prog: str = "") -> str:
    """`prog` (default `python -m command`): what the user typed, `halab X` for halab's subcommands."""
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr and p.stderr.count("\n") == 1, p.stderr
    line = p.stderr.strip()
    assert line.startswith(f"{prog or 'python -m ' + command}: error: ") and f"cannot import {module} " in line, line
    assert "sudo ./setup.sh" in line and f"/usr/bin/python3 -m {command} " in line and "--system-site-packages" in line, line
    assert ("`pip install .` into this interpreter" in line) == (command in requirements.ANALYSIS), line
    return line


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_says_one_line_or_works(bare: Path, command: str):
    p = subprocess.run([str(bare), "-m", command, "--help"], cwd=REPO, capture_output=True, text=True, timeout=60,
                       env=clean_env())
    if p.returncode == 0:  # needs none of the libraries (analyze, the probes, halab's own help, ...)
        assert "usage" in p.stdout.lower(), p.stdout
    else:
        library = re.search(r"cannot import (\w+)", p.stderr)
        assert library and library.group(1) in requirements.LIBRARIES, p.stderr
        one_line(p, library.group(1), command)


@pytest.mark.parametrize(("command", "args"), NEEDS, ids=[" ".join(k) for k in NEEDS])
def test_missing_library_is_one_line(bare: Path, command: str, args: str):
    p = subprocess.run([str(bare), "-m", command, *args.split()], cwd=REPO, capture_output=True, text=True, timeout=60,
                       env=clean_env())
    subcommand = f"labs.{args.split()[0]}" if command == "labs.halab" else command
    prog = f"halab {args.split()[0]}" if command == "labs.halab" else ""
    line = one_line(p, NEEDS[command, args], subcommand, prog)
    assert str(bare) in line  # the interpreter that cannot


def test_halab_entry_point(bare: Path, tmp_path: Path):
    script = tmp_path / "halab"
    script.write_text(CONSOLE_SCRIPT)
    env = clean_env(PYTHONPATH=str(REPO))  # as if installed: run from elsewhere
    p = subprocess.run([str(bare), str(script), "compare", "a", "b"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=60, env=env)
    one_line(p, "matplotlib", "labs.compare", "halab compare")
    assert subprocess.run([str(bare), str(script), "--help"], cwd=tmp_path, capture_output=True, text=True,
                          env=env).returncode == 0


def test_outside_the_checkout_says_where_to_run(tmp_path: Path):
    """labs without topologies/ and scenarios/ beside it: not a wrong interpreter, a wrong folder."""
    (tmp_path / "labs").symlink_to(REPO / "labs")
    installed = subprocess.run([sys.executable, "-c", "import scenarios, topologies"], cwd=tmp_path, capture_output=True,
                               env=clean_env())
    if installed.returncode == 0:
        pytest.skip("this interpreter has halab installed (scenarios, topologies): no checkout is needed")
    p = subprocess.run([sys.executable, "-m", "labs.run", "--help"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=60, env=clean_env())
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr
    assert "cannot import topologies" in p.stderr or "cannot import scenarios" in p.stderr  # whichever it imports first
    assert "repository folder" in p.stderr and "pip install ." in p.stderr


def test_our_own_missing_module_keeps_its_traceback(tmp_path: Path):
    """A missing module of our own (or a library's own dependency) is a bug, not a wrong interpreter."""
    package = tmp_path / "labs"
    (package / "common").mkdir(parents=True)
    for name in ("__init__.py", "common/__init__.py", "common/requirements.py", "common/errors.py"):
        shutil.copy(REPO / "labs" / name, package / name)
    (package / "broken.py").write_text("import labs.nosuch\n")
    p = subprocess.run([sys.executable, "-m", "labs.broken"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                       env=clean_env())
    assert p.returncode == 1 and "Traceback" in p.stderr and "No module named 'labs.nosuch'" in p.stderr, p.stderr


def test_the_decision():
    run, plot = "python -m labs.run", "python -m labs.plot"
    assert requirements.cannot_import(run, ModuleNotFoundError(name="labs.nosuch")) is None
    assert requirements.cannot_import(run, ModuleNotFoundError(name="topologies.nosuch")) is None
    assert requirements.cannot_import(plot, ModuleNotFoundError(name="kiwisolver")) is None  # matplotlib's own: broken install
    assert "pip install ." in requirements.cannot_import(plot, ModuleNotFoundError(name="matplotlib"))
    assert "pip install ." not in requirements.cannot_import(run, ModuleNotFoundError(name="mininet"))
    assert "repository folder" in requirements.cannot_import(run, ModuleNotFoundError(name="topologies"))


def test_entry_says_one_line_for_a_library_and_raises_for_a_bug(capsys):
    def missing(name: str):
        def go() -> int:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return go

    assert entry("python -m labs.run", missing("pexpect")) == 2
    assert capsys.readouterr().err.count("\n") == 1
    with pytest.raises(ModuleNotFoundError):
        entry("python -m labs.run", missing("labs.nosuch"))
