"""The Python API without a lab: its one-line refusals and its results read from files."""
from __future__ import annotations

import json

import pytest

from labs import api, kernel
from labs.common.errors import LabError


def test_a_process_that_cannot_hold_the_lab_says_what_to_do(monkeypatch):
    """On a kernel without IPVS the lab cannot run in this process (a notebook's): one line
    naming api.here() and the native requirement."""
    monkeypatch.delenv("HALAB_IN_UML", raising=False)
    monkeypatch.setattr(kernel, "choose", lambda requested, ipvs=True: kernel.Choice("uml", "no IPVS here"))
    with pytest.raises(LabError, match=r"no IPVS here.*labs\.api\.here\(\)"):
        kernel.dispatch_here("auto")
    monkeypatch.setenv("HALAB_IN_UML", "1")
    assert kernel.dispatch_here("auto")[0] == "uml"


def test_here_refuses_what_is_not_a_script(monkeypatch):
    monkeypatch.setattr("sys.argv", ["ipykernel_launcher"])
    with pytest.raises(LabError, match="re-runs a script"):
        api.here()


def test_a_bad_lab_is_one_line_before_anything_runs(tmp_path):
    with pytest.raises(LabError, match="unknown topology"):
        with api.open_lab("nosuch", results_root=tmp_path):
            pass
    with pytest.raises(LabError, match="no such setting"):
        with api.open_lab("dual_master", settings={"advert_intt": "1"}, results_root=tmp_path):
            pass


def test_a_result_reads_its_summary(tmp_path):
    summary = {"verdict": "fail", "reason": "1 of 2 expectations failed", "phases": [
        {"phase": "inject", "clients": {"192.168.56.131": {"failed": 3}}, "expectations": [
            {"kind": "move", "vip": "192.168.56.131", "verdict": "pass", "measured_s": 0.7, "reason": "ok"},
            {"kind": "clients", "vip": "192.168.56.131", "verdict": "fail", "failed": 3, "reason": "too late"}]}]}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    result = api.Result(tmp_path, summary)
    assert result.verdict == "fail" and result.failures == ["too late"]
    assert result.failover("192.168.56.131") == 0.7 and result.clients("192.168.56.131")["failed"] == 3
    assert result.client_expectation("192.168.56.131")["reason"] == "too late"
