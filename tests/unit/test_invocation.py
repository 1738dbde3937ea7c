"""The command line as a user types it (`halab X`, `python -m labs.X`): usage and errors name
what was typed, each command's help is its own and whole, and every wrong invocation, output
paths among them, is one line and exit 2 before anything is built. Nothing here builds a lab:
each invocation stops at --help, --list, --dump, render or a refused argument."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from labs.halab import COMMANDS


def halab(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "labs.halab", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60)


def refused(p: subprocess.CompletedProcess[str], prog: str, *words: str) -> str:
    """The one line of a wrong invocation: exit 2, `prog: error: ...`, no usage block, no traceback."""
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr
    line = p.stderr.strip()
    assert line.startswith(f"{prog}: error: "), line
    for word in words:
        assert word in line, (word, line)
    assert "kernel:" not in p.stdout, "refused before choosing a kernel"
    return line


def description(help_text: str) -> str:
    """The paragraph after the usage block, on one line."""
    return " ".join(help_text.split("\n\n")[1].split())


@pytest.mark.parametrize("name", COMMANDS)
def test_each_subcommands_help_is_its_own_and_whole(name: str):
    p = halab(name, "--help")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"usage: halab {name} "), p.stdout[:80]
    text = description(p.stdout)
    assert not text.startswith("`") and text[0].isupper(), text  # no "`python -m labs.X ...`:" left over
    assert text.endswith("."), text  # the whole sentence, not its docstring's first line


def test_descriptions_the_user_found_cut():
    assert "then the failover against the model's window for every value in one chart" in description(
        halab("sweep", "--help").stdout)
    assert "(e.g. two config versions), figure by figure" in description(halab("compare", "--help").stdout)
    for name in ("status", "clean"):
        assert not description(halab(name, "--help").stdout).endswith(": is a lab"), name


def test_check_cli_and_list_have_only_their_options():
    check, cli, listing = (halab(n, "--help").stdout for n in ("check", "cli", "list"))
    run = halab("run", "--help").stdout
    assert "--scenario" in run and "--dump" in run
    for text in (check, cli, listing):
        assert "--scenario" not in text and "--dump" not in text and "--junit-xml" not in text
    assert "--no-probe" in cli and "--no-probe" not in check and "--kernel" not in listing and "--json" in listing


def test_help_command_is_the_commands_help():
    assert halab("help", "run").stdout == halab("run", "--help").stdout
    assert halab("help", "list").stdout.startswith("usage: halab list ")


@pytest.mark.parametrize(("args", "words"), [
    (("run",), ["name a topology", "(usage: halab run --help)"]),
    (("run", "dual_master", "--kernel", "xen"), ["invalid choice: 'xen'", "(usage: halab run --help)"]),
    (("check",), ["required: topology"]),
    (("list", "--kernel", "uml"), ["unrecognized arguments: --kernel"]),
    (("status", "--nope"), ["unrecognized arguments: --nope"]),
    (("sweep", "dual_master"), ["required: --scenario, --set"]),
])
def test_a_wrong_invocation_is_one_line_naming_what_was_typed(args: tuple[str, ...], words: list[str]):
    refused(halab(*args), f"halab {args[0]}", *words)


def test_python_m_keeps_its_own_name():
    p = subprocess.run([sys.executable, "-m", "labs.run", "dual_master", "--kernel", "xen"], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    refused(p, "python -m labs.run", "(usage: python -m labs.run --help)")


def test_unknown_subcommand():
    refused(halab("nosuch"), "halab", "unknown command 'nosuch'")


def test_list_columns_stay_aligned_and_summaries_whole():
    p = halab("list")
    assert p.returncode == 0, p.stderr
    scenarios = p.stdout.split("scenarios:")[1].splitlines()[1:]
    starts = {re.match(r"  \S+ +", line).end() for line in scenarios}
    assert len(starts) == 1, starts  # every summary in one column, however long the name
    assert all(re.match(r"  \S+  ", line) for line in scenarios)  # two spaces at least after the longest
    lossy = next(line for line in scenarios if line.split()[0] == "lossy_link")
    assert "the target says which host and how much" in lossy, lossy


def test_a_closed_stdout_ends_the_listing_quietly():
    """`halab list | head -3`: the reader left; no traceback, as with any Unix tool."""
    p = subprocess.Popen([sys.executable, "-m", "labs.halab", "list"], cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()  # before the command writes: its first write finds no reader
    err = p.stderr.read()
    assert p.wait(timeout=60) == 141 and err == "", err


def test_render_target_is_now_out(tmp_path: Path):
    line = refused(halab("render", "dual_master", "--target", str(tmp_path / "x")), "halab render", "--out")
    assert str(tmp_path / "x") in line
    assert not (tmp_path / "x").exists()


@pytest.fixture
def afile(tmp_path: Path) -> Path:
    path = tmp_path / "afile"
    path.write_text("mine\n")
    return path


def test_output_folders_that_are_files(afile: Path):
    refused(halab("render", "dual_master", "--out", str(afile)), "halab render", f"--out {afile} is a file")
    refused(halab("compare", "A", "A", "--out", str(afile)), "halab compare", f"--out {afile} is a file")
    refused(halab("run", "dual_master", "--dump", str(afile)), "halab run", f"--dump {afile} is a file")
    assert afile.read_text() == "mine\n"


def test_an_output_folder_of_someone_elses_is_refused_ours_reused(tmp_path: Path, afile: Path):
    for args in (("render", "dual_master", "--out"), ("run", "dual_master", "--dump")):
        refused(halab(*args, str(tmp_path)), f"halab {args[0]}", "holds other files (afile)")
        again = tmp_path.parent / f"{tmp_path.name}-{args[0]}"
        for _ in range(2):  # the second time into what the first wrote
            p = halab(*args, str(again))
            assert p.returncode == 0, p.stderr


def test_junit_xml_is_checked_before_the_runs(tmp_path: Path, afile: Path):
    refused(halab("run", "dual_master", "--junit-xml", str(tmp_path)), "halab run",
            f"--junit-xml {tmp_path} is a folder", "junit.xml")
    refused(halab("run", "dual_master", "--junit-xml", str(afile / "x.xml")), "halab run",
            f"{afile} is not a folder you can write")


@pytest.mark.parametrize("root", ["/run/x", "/proc/x", "/sys/x"])
def test_results_off_the_disk_are_refused_before_the_kernel(root: str):
    refused(halab("check", "dual_master", "--results", root), "halab check", f"--results {root} is under /")


def test_results_under_a_file(afile: Path):
    refused(halab("check", "dual_master", "--results", str(afile / "r")), "halab check",
            f"{afile} is not a folder you can write")
