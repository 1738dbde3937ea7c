"""pytest plugin for failover regression tests of your own: the `lab` marker (skipped, with
the reason, where no kernel backend can run the lab), and the `halab_run` fixture.
Installed with the package (entry point `pytest11`), so nothing needs registering; in a
checkout that is not installed: `pytest_plugins = ["labs.pytest_plugin"]`.

    @pytest.mark.lab
    def test_lvs1_fails_over_within_a_second(halab_run):
        result = halab_run("stop_keepalived", target="lvs1")
        assert result.verdict == "pass", result.reason
        assert result.failover("192.168.56.131") < 1.0
        assert result.client_expectation("192.168.56.131")["failed"] < 60

`halab_run` runs `python -m labs.run TOPOLOGY --scenario ...` exactly as a user would (on
the native kernel or through User-mode Linux), in a temporary results folder, and returns
the run's summary.json wrapped in `Result`.

A run judges its own measurement: its verdict is `disturbed` when the probe ran late or
sent too few requests (other work on the host), and its figures cannot be trusted.
`skip_if_disturbed(result)` skips the test with the run's reason, before it asserts
anything on those figures.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import pytest

from labs import api, kernel
from labs.common import requirements
from labs.common.errors import LabError

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 900


LAB_MARKER = "lab: brings up the real lab (native kernel with IPVS as root, else User-mode Linux)"


def lab_problem() -> str | None:
    """Why the lab cannot run here (missing programs or modules, no kernel backend), or None."""
    try:
        requirements.check()
        kernel.choose("auto")
    except LabError as e:
        return str(e)
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", LAB_MARKER)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    labs = [item for item in items if "lab" in item.keywords]
    problem = lab_problem() if labs else None
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
def halab_run(tmp_path: Path) -> Callable[..., Result]:
    def run(scenario: str, target: str | None = None, topology: str = "dual_master",
            options: Sequence[str] = ()) -> Result:
        """One scenario run; `options` are more command-line options, e.g. ("--variant", "fast")."""
        results = tmp_path / "-".join([scenario, target or "default", *options]).replace("/", "_")
        (result,) = run_scenarios(results, [scenario], target, topology, options)
        return result

    return run
