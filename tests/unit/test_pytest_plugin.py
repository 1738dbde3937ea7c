"""The pytest plugin as another project meets it: pytest run on small test files in tmp_path,
with only this plugin loaded (-p labs.pytest_plugin). Its lab check and its runs are replaced
by the files' conftest, so nothing here brings a lab up."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent

# The lab check says which backend it was asked about; halab_run's runs hand back their arguments.
CONFTEST = """
import labs.pytest_plugin as plugin

plugin.lab_problem = lambda kernel_choice="auto": f"no {kernel_choice} here"
plugin.run_scenarios = lambda *args: [args]
"""

MARKERS = """
import pytest


@pytest.fixture
def halab_run():  # the test's own: these tests only look at how they are marked
    return None


@pytest.mark.halab_lab
def test_new_name():
    pass


@pytest.mark.lab
def test_old_name_with_halab_run(halab_run):
    pass


@pytest.mark.lab
def test_another_projects_lab():
    pass
"""


def pytest_run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (folder / "pytest.ini").write_text("[pytest]\n")  # the rootdir: not this checkout's settings
    (folder / "conftest.py").write_text(CONFTEST)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "labs.pytest_plugin", "-p", "no:cacheprovider",
                           "-v", "-rs", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120)


def test_the_old_lab_marker_is_halab_s_only_on_tests_that_use_halab_run(tmp_path):
    """`lab` was a name other projects use too: their `lab` tests run as before; ours, on the
    halab_run fixture, are still skipped where the lab cannot run, with a warning naming
    halab_lab. A folder named lab/ is not a marker (item.keywords would say it is)."""
    (tmp_path / "test_markers.py").write_text(MARKERS)
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "test_in_a_lab_folder.py").write_text("def test_plain():\n    pass\n")
    p = pytest_run(tmp_path, "--halab-kernel", "uml")
    out = p.stdout
    assert "test_markers.py::test_new_name SKIPPED" in out, out
    assert "test_markers.py::test_old_name_with_halab_run SKIPPED" in out, out
    assert "test_markers.py::test_another_projects_lab PASSED" in out, out
    assert "lab/test_in_a_lab_folder.py::test_plain PASSED" in out, out
    assert out.count("the lab cannot run here: no uml here") == 2, out
    assert out.count("PytestDeprecationWarning") == 1, out
    assert "use @pytest.mark.halab_lab" in out, out
    assert p.returncode == 0, out + p.stderr


RUNS = """
from pathlib import Path


def test_defaults(halab_run, tmp_path):
    results, scenarios, target, topology, options = halab_run("stop_keepalived", target="lvs1")
    assert results == tmp_path / "stop_keepalived-lvs1"
    assert (scenarios, target, topology, options) == (["stop_keepalived"], "lvs1", "dual_master", ("--kernel", "auto"))


def test_options(halab_run):
    results, _, _, _, options = halab_run("nginx_down", options=("--variant", "fast"))
    assert results == Path.cwd() / "out" / "test_runs.py__test_options" / "nginx_down-default---variant-fast"
    assert options == ("--kernel", "uml", "--variant", "fast")
"""


def test_halab_run_takes_the_kernel_and_the_results_folder_from_the_command_line(tmp_path):
    """By default the runs choose their kernel (auto) and go to the test's tmp_path; given
    --halab-kernel and --halab-results (relative to where pytest starts, not to the checkout
    the runs start in), each test's runs go to a folder of its own there."""
    (tmp_path / "test_runs.py").write_text(RUNS)
    p = pytest_run(tmp_path, "test_runs.py::test_defaults")
    assert p.returncode == 0 and "1 passed" in p.stdout, p.stdout + p.stderr
    p = pytest_run(tmp_path, "--halab-kernel", "uml", "--halab-results", "out", "test_runs.py::test_options")
    assert p.returncode == 0 and "1 passed" in p.stdout, p.stdout + p.stderr


def test_bad_plugin_options_are_usage_errors(tmp_path):
    """pytest's own exit status for bad options (4), before any test: a results folder that
    is a file would fail every run, a backend that does not exist none."""
    (tmp_path / "test_runs.py").write_text(RUNS)
    (tmp_path / "a_file").write_text("")
    p = pytest_run(tmp_path, "--halab-results", "a_file")
    assert p.returncode == 4 and "--halab-results" in p.stderr and "collected" not in p.stdout, p.stdout + p.stderr
    p = pytest_run(tmp_path, "--halab-kernel", "vm")
    assert p.returncode == 4 and "invalid choice: 'vm'" in p.stderr, p.stdout + p.stderr
