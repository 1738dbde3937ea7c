"""pytest plugin for failover regression tests of your own: the `halab_lab` marker (skipped,
with the reason, where no kernel backend can run the lab), and the `halab_run` fixture.
Installed with the package (entry point `pytest11`), so nothing needs registering; in a
checkout that is not installed: `pytest_plugins = ["labs.pytest_plugin"]`.

    @pytest.mark.halab_lab
    def test_lvs1_fails_over_within_a_second(halab_run):
        result = halab_run("stop_keepalived", target="lvs1")
        assert result.verdict == "pass", result.reason
        assert result.failover("192.168.56.131") < 1.0
        assert result.client_expectation("192.168.56.131")["failed"] < 60

`halab_run` runs `python -m labs.run TOPOLOGY --scenario ...` exactly as a user would (on
the native kernel or through User-mode Linux: `--halab-kernel`, default auto), in the test's
tmp_path or under `--halab-results DIR`, and returns the run's summary.json wrapped in `Result`.

A run judges its own measurement: its verdict is `disturbed` when the probe ran late or
sent too few requests (other work on the host), and its figures cannot be trusted.
`skip_if_disturbed(result)` skips the test with the run's reason, before it asserts
anything on those figures.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import pytest

from labs import api, kernel
from labs.common import requirements, results as results_files
from labs.common.errors import LabError

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 900


MARKER = "halab_lab"
LAB_MARKER = f"{MARKER}: brings up the real lab (native kernel with IPVS as root, else User-mode Linux)"
# The bare `lab` was this marker's name before: it claimed other projects' `lab` tests
# and skipped them for want of Mininet. It stays an alias for one release, and only on tests
# that request `halab_run`: those are certainly ours; any other `lab` test is left to its
# own project, neither skipped nor warned about. Remove it (and OLD_MARKER) in the release after.
OLD_MARKER = "lab"
OLD_LAB_MARKER = f"{OLD_MARKER}: deprecated, use {MARKER} (halab's alias, on tests that use halab_run only)"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("halab", "halab lab runs (halab_run fixture)")
    group.addoption("--halab-kernel", choices=kernel.CHOICES, default="auto",
                    help="kernel backend of the runs halab_run starts (labs.run --kernel; default auto)")
    group.addoption("--halab-results", type=Path, metavar="DIR",
                    help="where halab_run's run folders go, one folder per test (default: the test's tmp_path)")


def lab_problem(kernel_choice: str = "auto") -> str | None:
    """Why the lab cannot run here on `kernel_choice` (missing programs or modules, no such
    kernel backend), or None."""
    try:
        requirements.check()
        kernel.choose(kernel_choice)
    except LabError as e:
        return str(e)
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", LAB_MARKER)
    config.addinivalue_line("markers", OLD_LAB_MARKER)
    folder = config.getoption("halab_results")
    if folder is not None:  # refused now, as labs.run would refuse it, not in every test later
        try:
            results_files.check_writable(_results_root(config), "--halab-results")
        except LabError as e:
            raise pytest.UsageError(str(e)) from None


def _results_root(config: pytest.Config) -> Path:
    """--halab-results from where pytest was started: the runs themselves start in the checkout."""
    return config.invocation_params.dir / config.getoption("halab_results")


def _is_lab(item: pytest.Item) -> bool:
    """Marked halab_lab, or `lab` on a test that uses halab_run (warned: the alias goes).
    A marker, not a keyword: item.keywords also holds folder and module names (tests/lab/)."""
    if item.get_closest_marker(MARKER):
        return True
    if item.get_closest_marker(OLD_MARKER) and "halab_run" in getattr(item, "fixturenames", ()):
        item.warn(pytest.PytestDeprecationWarning(
            f"@pytest.mark.{OLD_MARKER} is halab's old marker name: use @pytest.mark.{MARKER} "
            f"(`{OLD_MARKER}` stops meaning halab's lab in the next release)"))
        return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    labs = [item for item in items if _is_lab(item)]
    problem = lab_problem(config.getoption("halab_kernel")) if labs else None
    for item in labs if problem else []:
        item.add_marker(pytest.mark.skip(reason=f"the lab cannot run here: {problem}"))


@dataclass(frozen=True)
class Result(api.Result):
    """A run's judged result (labs.api.Result: verdict, failover, clients, ...) with the
    command's output and exit status."""

    output: str = ""
    returncode: int = 0


def run_scenarios(results: Path, scenarios: Sequence[str], target: str | None = None, topology: str = "dual_master",
                  options: Sequence[str] = ()) -> list[Result]:
    """`python -m labs.run TOPOLOGY --scenario A,B,...` as a user types it (under User-mode
    Linux on labs side by side, two per CPU, each shared by its runs; `options` may say
    --jobs 1 or --fresh); one Result per run, in order."""
    argv = [sys.executable, "-m", "labs.run", topology, "--scenario", ",".join(scenarios), "--results", str(results),
            *options]
    if target:
        argv += ["--target", target]
    p = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT * len(scenarios))
    print(p.stdout, p.stderr)
    suite = sorted(results.glob("*-suite"))
    names = json.loads((suite[-1] / "suite.json").read_text())["runs"] if suite else [(results / "latest").resolve().name]
    out = []
    for name in names:
        folder = results / name
        if not (folder / "summary.json").exists():
            pytest.fail(f"no summary in {folder} from `{' '.join(argv)}` (exit {p.returncode}):\n"
                        f"{p.stdout[-3000:]}{p.stderr[-2000:]}")
        out.append(Result(folder, json.loads((folder / "summary.json").read_text()), p.stdout, p.returncode))
    return out


def skip_if_disturbed(result: api.Result) -> None:
    """Skip the test, with the run's reason, when the run judged its own timing disturbed
    (verdict `disturbed`): a test that fails because the host was loaded reports no
    product failure, and one that passes on such figures proves nothing. A skip says so
    in the test report; a run that failed is not skipped, its verdict is `fail`."""
    if result.verdict == "disturbed":
        pytest.skip(f"{result.summary.get('scenario')}@{result.summary.get('target')}: {result.reason}")


@pytest.fixture
def halab_run(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Result]:
    """Runs one scenario per call, with the session's --halab-kernel, in tmp_path or in the
    test's own folder under --halab-results (kept after the session, for a look at the runs)."""
    config = request.config
    root = tmp_path
    if config.getoption("halab_results") is not None:  # one folder per test: labs.run's `latest` is per folder
        root = _results_root(config) / re.sub(r"[^\w.-]", "_", request.node.nodeid)
    backend = ("--kernel", config.getoption("halab_kernel"))

    def run(scenario: str, target: str | None = None, topology: str = "dual_master",
            options: Sequence[str] = ()) -> Result:
        """One scenario run; `options` are more command-line options, e.g. ("--variant", "fast"),
        after the session's --kernel, so that one given here wins."""
        results = root / "-".join([scenario, target or "default", *options]).replace("/", "_")
        (result,) = run_scenarios(results, [scenario], target, topology, (*backend, *options))
        return result

    return run
