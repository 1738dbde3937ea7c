"""The package's shape, read from its source with `ast` (nothing of it is imported): the commands
at the top of labs/, no import cycle among the modules, and an import inside a function only
where a module-level one cannot do — each saying why on its line or the line above."""
from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OWN = ("labs", "topologies", "scenarios")  # the checkout's packages: scenarios and topologies import labs
# The optional heavy libraries: a module that must work without one (--list, --help, the analysis
# that only reads files, lint) imports a module needing it only in the function that uses it.
HEAVY = ("mininet", "pyroute2", "matplotlib", "pexpect", "jinja2")
# Standard-library modules that may be imported in a function, each with its reason (c): costly to
# import, needed on a rarely taken path of a module every command imports.
COSTLY = {
    "multiprocessing": "the drawing pool of --jobs only (labs.lab.jobs)",
    "concurrent.futures": "the drawing pool of --jobs only (labs.lab.jobs; ProcessPoolExecutor imports its process module)",
    # labs/__init__ runs for every command and is ~5 ms; only version() reads these (~2 ms and ~5 ms more)
    "tomllib": "halab's version in a checkout (labs.version)",
    "importlib.metadata": "halab's version outside a checkout (labs.version)",
}
# Modules also run as a script on their own, standard library only (a fourth reason): they import
# the checkout's modules in the function that needs them, after putting the checkout on sys.path.
STANDALONE = {
    "labs.kaconfig.oracle": "runs inside User-mode Linux as a plain script (python -P oracle.py), where every "
                            "import costs ~20x and the checkout is not on sys.path",
}
# the layout docs/architecture.md promises: labs/*.py are the commands (each with a main), and these
NOT_COMMANDS = {"__init__.py", "api.py", "pytest_plugin.py"}


def costly(target: str) -> str | None:
    """Why the standard-library `target` may wait for the function that needs it, or None."""
    return next((why for name, why in COSTLY.items() if target == name or target.startswith(f"{name}.")), None)


@cache
def modules() -> dict[str, Path]:
    """Every module of the checkout's packages by dotted name (a package by its own name)."""
    found = {}
    for package in OWN:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def external(name: str) -> bool:
    return name.split(".")[0] not in OWN


def ancestors(name: str) -> list[str]:
    """The packages Python imports before `name`: labs.lab.lab -> labs, labs.lab."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    line: int
    targets: tuple[str, ...]  # what the statement imports: own modules resolved, others as written
    in_function: bool


def own(name: str) -> str | None:
    """The own module that importing `name` runs last (labs.spec.LabSpec -> labs.spec), or None."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def targets_of(node: ast.Import | ast.ImportFrom, module: str) -> tuple[str, ...]:
    if isinstance(node, ast.Import):
        return tuple(a.name for a in node.names)
    base = node.module or ""
    if node.level:  # relative: from the module's package
        package = module if modules()[module].name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    # `from labs.lab import netns` imports the module labs.lab.netns, `from labs.spec import LabSpec` labs.spec;
    # another package's names are kept (`from concurrent.futures import ProcessPoolExecutor` imports more
    # than `from concurrent.futures import Future`)
    return tuple(sorted({f"{base}.{a.name}" if f"{base}.{a.name}" in modules() or external(base) else base
                         for a in node.names}))


def is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


@cache
def imports(module: str) -> tuple[Import, ...]:
    """The module's import statements that run: at import time (module level, class bodies) or
    when a function is called; `if TYPE_CHECKING:` blocks never run and are left out."""
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if is_type_checking(child):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)) and not (
                    isinstance(child, ast.ImportFrom) and child.module == "__future__"):
                found.append(Import(module, child.lineno, targets_of(child, module), in_function))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(modules()[module].read_text(encoding="utf-8")), False)
    return tuple(found)


def edges(module: str, target: str) -> set[str]:
    """The own modules a module-level import of `target` in `module` runs: the target and its
    packages, less the packages `module` is itself in (those are already being imported)."""
    name = own(target)
    if name is None:
        return set()
    return {m for m in (*ancestors(name), name) if m != module and m not in ancestors(module)}


@cache
def graph() -> dict[str, frozenset[str]]:
    """Own module -> the own modules its module-level imports run."""
    return {m: frozenset(e for i in imports(m) if not i.in_function for t in i.targets for e in edges(m, t))
            for m in modules()}


@cache
def reach(module: str) -> frozenset[str]:
    """Every own module importing `module` runs (it, its packages, what their module-level imports run)."""
    seen, todo = set(), [*ancestors(module), module]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(graph()[m])
    return frozenset(seen)


def heavy_of(target: str) -> set[str]:
    """The heavy libraries importing `target` needs at import time, directly or through own modules."""
    if external(target):
        return {target.split(".")[0]} & set(HEAVY)
    name = own(target)
    if name is None:
        return set()
    return {t.split(".")[0] for m in reach(name) for i in imports(m) if not i.in_function
            for t in i.targets if external(t)} & set(HEAVY)


def cycles() -> list[list[str]]:
    """Import cycles among module-level imports, each as a path that returns to its start."""
    found, state, stack = [], {}, []

    def dfs(m: str) -> None:
        state[m] = "open"
        stack.append(m)
        for d in sorted(graph()[m]):
            if state.get(d) == "open":
                found.append(stack[stack.index(d):] + [d])
            elif d not in state:
                dfs(d)
        stack.pop()
        state[m] = "done"

    for m in sorted(modules()):
        if m not in state:
            dfs(m)
    return found


def would_cycle(module: str, target: str) -> bool:
    """Whether importing `target` at `module`'s top would close a cycle: what it runs runs `module`."""
    seen, todo = set(), list(edges(module, target))
    while todo:
        m = todo.pop()
        if m == module:
            return True
        if m not in seen:
            seen.add(m)
            todo.extend(graph()[m])
    return False


def imported_at_load(module: str) -> set[str]:
    """The other packages' modules and names that importing `module` imports already."""
    return {t for m in reach(module) for i in imports(m) if not i.in_function for t in i.targets if external(t)}


@cache
def comments(module: str) -> dict[int, str]:
    text = modules()[module].read_text(encoding="utf-8")
    return {t.start[0]: t.string for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type == tokenize.COMMENT}


def comment_of(i: Import) -> str:
    """The comment that says why: on the import's line, or just above the run of imports (and
    comments) it belongs to, so that several imports of one function share one comment."""
    lines = modules()[i.module].read_text(encoding="utf-8").splitlines()
    said = [comments(i.module).get(i.line, "")]
    n = i.line - 1
    while n >= 1 and (n in import_lines(i.module) or lines[n - 1].lstrip().startswith("#")):
        said.append(comments(i.module).get(n, ""))
        n -= 1
    return " ".join(s for s in said if s)


@cache
def import_lines(module: str) -> frozenset[int]:
    """The lines of the module's import statements (a parenthesised one spans several)."""
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    return frozenset(n for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                     for n in range(node.lineno, (node.end_lineno or node.lineno) + 1))


def verdict(i: Import) -> str | None:
    """Why a function-level import is wrong, or None when one of the reasons holds and its comment
    says which: (a) it brings a heavy library `module` itself works without (the comment names it),
    (b) at module level it would close a cycle (the comment says "cycle"), (c) a costly standard
    library module listed in COSTLY (any comment); in a STANDALONE script, any own module (the comment
    says "standalone")."""
    said = comment_of(i).lower()
    own_heavy = heavy_of(i.module)
    for target in i.targets:
        heavy = heavy_of(target) - own_heavy
        if heavy:
            if not any(h in said for h in heavy):
                return f"imports {target} (needs {', '.join(sorted(heavy))}) without a comment naming it"
        elif i.module in STANDALONE and not external(target):
            if "standalone" not in said:
                return f"imports {target} in the standalone script {i.module} without a comment saying so"
        elif not external(target) and would_cycle(i.module, target):
            if "cycle" not in said:
                return f"imports {target} (a module-level import would close a cycle) without a comment saying so"
        elif costly(target) and not any(t == target or t.startswith(f"{target}.") for t in imported_at_load(i.module)):
            if not said:
                return f"imports {target} (costly: {costly(target)}) without a comment saying why"
        else:
            return (f"imports {target} in a function for none of the reasons: move it to the module's imports "
                    f"(it needs none of {', '.join(HEAVY)} that {i.module} does without, and closes no cycle)")
    return None


def where(i: Import) -> str:
    return f"{modules()[i.module].relative_to(ROOT)}:{i.line}"


def test_no_import_cycle():
    assert not cycles(), ("module-level imports form a cycle (break it: move what both need into a module of "
                          "its own, or import under TYPE_CHECKING for annotations only): "
                          + "; ".join(" -> ".join(c) for c in cycles()))


def test_function_level_imports_have_their_reason():
    wrong = [f"{where(i)}: {why}" for m in sorted(modules()) for i in imports(m) if i.in_function
             for why in [verdict(i)] if why]
    assert not wrong, ("an import inside a function needs a reason: (a) the module it imports needs "
                       f"{'/'.join(HEAVY)} and this one must work without it, (b) at module level it would close "
                       "a cycle, (c) a costly standard-library module (COSTLY in this file); say which in a comment "
                       "on its line or just above; otherwise import it at the module's top.\n" + "\n".join(wrong))


def test_standalone_scripts_import_the_standard_library_only():
    """At module level; what they need of the checkout they import in a function."""
    for name, why in STANDALONE.items():
        assert name in modules(), f"STANDALONE names {name}, which is gone: drop it from the list"
        wrong = [f"{where(i)}: {', '.join(i.targets)}" for i in imports(name) if not i.in_function
                 if any(not external(t) or t.split(".")[0] in HEAVY for t in i.targets)]
        assert not wrong, f"{name} {why}: import these in the function that needs them: " + "; ".join(wrong)


def test_top_level_holds_the_commands():
    """labs/*.py: each a command with a main (python -m labs.X), or the package, the API, the plugin."""
    strays = []
    for path in sorted((ROOT / "labs").glob("*.py")):
        if path.name in NOT_COMMANDS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body):
            strays.append(path.name)
    assert not strays, (f"labs/{', labs/'.join(strays)}: labs/ holds only the commands (each with a main), "
                        f"{', '.join(sorted(NOT_COMMANDS))}; move a library module into its stage's folder "
                        "(labs/common, spec, plan, lab, probes, analysis, report, daemons, kaconfig, kernel)")
    assert {p.name for p in (ROOT / "labs").glob("*.py")} >= NOT_COMMANDS
