"""Backend choice and the UML wrapper's pieces, without booting anything."""
from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest

from labs import kernel
from labs.common.errors import LabError
from labs.kernel import native, uml


@pytest.fixture
def problems(monkeypatch):
    def set_(native_problem, uml_problem):
        monkeypatch.setattr(native, "problem", lambda ipvs=True: native_problem)
        monkeypatch.setattr(uml, "problem", lambda: uml_problem)
    return set_


def test_auto_prefers_native(problems):
    problems(None, None)
    assert kernel.choose("auto").backend == "native"


def test_auto_falls_back_to_uml_and_says_why(problems):
    problems("this kernel has no IPVS", None)
    choice = kernel.choose("auto")
    assert choice.backend == "uml" and "no IPVS" in choice.reason


def test_neither_names_both_fixes(problems):
    problems("it needs root (run with sudo)", "linux.uml is missing (install the Debian package user-mode-linux)")
    with pytest.raises(LabError, match="user-mode-linux") as e:
        kernel.choose("auto")
    assert "sudo" in str(e.value) and "\n" not in str(e.value)


def test_explicit_backend_that_cannot_run(problems):
    problems("this kernel has no IPVS", None)
    with pytest.raises(LabError, match="--kernel native"):
        kernel.choose("native")
    assert kernel.choose("uml").backend == "uml"


def test_unknown_backend(problems):
    problems(None, None)
    with pytest.raises(LabError, match="unknown kernel backend"):
        kernel.choose("xen")


def test_uml_problem_names_the_package(monkeypatch):
    monkeypatch.setattr(uml, "kernel_path", lambda: None)
    assert "user-mode-linux" in uml.problem()


def test_init_script(tmp_path):
    if uml.modules_dir() is None:
        pytest.skip("user-mode-linux is not installed")
    text = uml.init_script(["/usr/bin/python3", "-m", "labs.run", "dual_master"], "/some dir", {"A": "b c"}, tmp_path / "st")
    assert text.startswith("#!/bin/sh")
    for module in ("ip_vs", "ip_vs_wrr", "veth", "bridge"):
        assert module in text
    assert "cd '/some dir' && env -i 'A=b c' /usr/bin/python3 -m labs.run dual_master" in text
    assert f"echo $? > {tmp_path / 'st'}" in text
    assert text.index(uml.START) < text.index("labs.run") < text.index(uml.END) < text.index("poweroff -f")


class FakeProc:
    def __init__(self, text: str) -> None:
        self.stdout = io.StringIO(text)


def test_stream_shows_only_the_inner_output():
    boot: list[str] = []
    out = io.StringIO()
    console = f"SELinux: noise\r\nmmapper_init failed\r\n{uml.START}\r\nhello\r\nworld\n{uml.END}\r\nreboot: System halted\r\n"
    uml._stream(FakeProc(console), out, boot)  # type: ignore[arg-type]
    assert out.getvalue() == "hello\nworld\n"
    assert boot == ["SELinux: noise\n", "mmapper_init failed\n"]


def test_inner_env_is_minimal(monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "x")
    monkeypatch.setenv("SUDO_UID", "1000")
    env = uml.inner_env()
    assert "SECRET_TOKEN" not in env and env["SUDO_UID"] == "1000" and env["HALAB_IN_UML"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"


def test_the_inner_run_imports_the_same_halab(monkeypatch):
    """A command run from outside the checkout (or a Python API script in examples/) finds
    `labs` inside User-mode Linux too: its folder leads PYTHONPATH, the user's follows."""
    import labs

    monkeypatch.setenv("PYTHONPATH", "/opt/mine")
    home = str(Path(labs.__file__).resolve().parent.parent)
    assert uml.inner_env()["PYTHONPATH"].split(os.pathsep) == [home, "/opt/mine"]
    monkeypatch.delenv("PYTHONPATH")
    assert uml.inner_env()["PYTHONPATH"] == home


def test_the_uml_kernel_and_what_it_starts_stay_on_one_cpu():
    """The kernel's process is pinned before it starts (so are the host processes it forks
    later: they inherit it); by default on the first CPU this process may use."""
    import functools
    import os

    allowed = os.sched_getaffinity(0)
    cpu = max(allowed)
    assert uml.host_cpu() == min(allowed) and uml.host_cpu(cpu) == cpu
    with pytest.raises(ValueError, match="not one this process may use"):
        uml.host_cpu(max(allowed) + 1)
    child = subprocess.Popen(["sh", "-c", "sleep 30 & echo $!; wait"], stdout=subprocess.PIPE, text=True,
                             preexec_fn=functools.partial(uml._child_setup, cpu))
    assert child.stdout is not None
    grandchild = int(child.stdout.readline())
    try:
        assert os.sched_getaffinity(child.pid) == {cpu} and os.sched_getaffinity(grandchild) == {cpu}
    finally:
        os.kill(grandchild, 9)
        child.wait()


def test_native_problem_without_root(monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert "root" in native.problem()


def test_has_ipvs_does_not_modprobe_without_root(monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.setattr(native, "IPVS_PROC", native.Path("/nonexistent/ip_vs"))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("modprobe run without root"))
    assert native.has_ipvs() is False


def test_a_lab_without_virtual_servers_needs_no_ipvs_natively(monkeypatch):
    """A single VRRP tier (a lab file without directors) may run on the host kernel as root
    even without IPVS; a lab with virtual servers may not."""
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr(native, "has_ipvs", lambda: False)
    assert "no IPVS" in native.problem(ipvs=True)
    assert native.problem(ipvs=False) is None
    monkeypatch.setattr(uml, "problem", lambda: None)
    assert kernel.choose("auto", ipvs=False).backend == "native"
    assert kernel.choose("auto", ipvs=True).backend == "uml"


def test_which_labs_need_ipvs():
    from labs.spec import labfile
    from conftest import REPO
    from topologies import dual_master

    assert dual_master.spec().needs_ipvs
    assert not labfile.load(REPO / "examples" / "unicast_pair" / "unicast_pair.toml").needs_ipvs
