"""halab: a keepalived + LVS + nginx high-availability lab built in network namespaces.

`python -m labs.X` imports this package first, then runs labs/X.py, whose module-level imports
(matplotlib, pyroute2, jinja2, mininet) come before any of its code: under an interpreter that does
not see Debian's packages (pyenv, conda, a venv without --system-site-packages) they fail before
main() can say anything. So here, and only under `python -m` (sys.argv[0] is "-m" while Python
locates the module: `import labs` elsewhere changes nothing), sys.excepthook is wrapped: such a
ModuleNotFoundError becomes the one line labs.common.requirements.cannot_import writes, and exit 2 (the
interpreter exits with the status of a SystemExit raised by its excepthook). Any other error keeps
its traceback. Errors once main() runs (lazy imports, `halab X`) go through labs.common.command.entry,
which calls the same function. Why here: a wrapper in each command's `__main__` block runs only
after the module's imports, too late; checking every library up front would refuse analysis
commands for want of Mininet, which they never import. This module imports nothing heavy: it runs
for every `import labs`.
"""
import sys
from pathlib import Path

from labs.common import requirements


def version() -> str:
    """halab's version, from its one source: pyproject.toml in a checkout, the installed
    package's metadata (made from that file) otherwise."""
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.exists():
        import tomllib  # costly: labs/__init__ runs for every command, only version() reads a toml file

        project = tomllib.loads(pyproject.read_text()).get("project", {})
        if project.get("name") == "halab":
            return str(project["version"])
    from importlib import metadata  # costly (~5 ms): needed only outside a checkout

    try:
        return metadata.version("halab")
    except metadata.PackageNotFoundError:  # neither: a copy of labs/ on its own
        return "unknown"


def _excepthook(kind: type[BaseException], error: BaseException, tb: object) -> None:
    if isinstance(error, ModuleNotFoundError):
        spec = getattr(sys.modules.get("__main__"), "__spec__", None)
        line = requirements.cannot_import(f"python -m {spec.name if spec else 'labs'}", error)
        if line is not None:
            print(line, file=sys.stderr)
            sys.exit(2)
    _previous(kind, error, tb)


_previous = sys.excepthook
if sys.argv[:1] == ["-m"]:
    sys.excepthook = _excepthook
