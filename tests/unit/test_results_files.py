"""The run folder's files as a format (issue #29): a missing input named, one schema
version in every document, events.jsonl in time order, the command the user typed and a
run id that survives a rename, stable JUnit names, `--json` on the files commands."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO
from labs.analysis import data
from labs.common.jsonfile import SCHEMA_VERSION
from labs.lab.events import EventLog
from unit.analysis_fixture import events, folder, graceful_lvs1, outage_until, probes


def command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True)


def passing_run(tmp: Path, name: str) -> Path:
    """A stop_keepalived run that passes, moved to `tmp/results/name`."""
    made = folder(tmp / name, "stop_keepalived", "lvs1")
    events(made, graceful_lvs1(0.70))
    probes(made, -3, 20, outage_until(0.7))
    root = tmp / "results"
    root.mkdir(exist_ok=True)
    return made.rename(root / name)


def test_a_run_without_probes_csv_is_named_not_judged(tmp_path):
    """Analysed, it used to fail with "no request was sent"; plot drew that FAIL."""
    run = passing_run(tmp_path, "r1")
    (run / "probes.csv").unlink()
    for module in ("labs.analyze", "labs.plot"):
        p = command(module, str(run))
        assert p.returncode == 2 and p.stderr.count("\n") == 1, (module, p.stderr)
        assert f"no probes.csv in {run}" in p.stderr
    assert not (run / "summary.json").exists() and not (run / "report.html").exists()


def test_a_folder_without_run_json_is_named(tmp_path):
    p = command("labs.analyze", str(tmp_path))
    assert p.returncode == 2 and f"no run.json in {tmp_path}" in p.stderr and p.stderr.count("\n") == 1


def test_analyze_takes_a_suite_folder(tmp_path):
    """What plot accepts, analyze accepts: every run re-analysed, the suite's verdicts and
    expectations.csv rewritten from them."""
    runs = [passing_run(tmp_path, name) for name in ("r1", "r2")]
    suite = tmp_path / "results" / "s-suite"
    suite.mkdir()
    (suite / "suite.json").write_text(json.dumps({"schema_version": 2, "runs": ["r1", "r2"], "verdicts": ["fail", "fail"],
                                                  "repeat": 1, "labs": "shared"}))
    p = command("labs.analyze", str(suite), "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["schema_version"] == SCHEMA_VERSION and doc["exit"] == 0
    assert [s["verdict"] for s in doc["summaries"]] == ["pass", "pass"]
    written = json.loads((suite / "suite.json").read_text())
    assert written["verdicts"] == ["pass", "pass"] and written["labs"] == "shared"
    assert all((r / "summary.json").exists() for r in runs)
    with open(suite / "expectations.csv", newline="") as fh:
        assert {row["run"] for row in csv.DictReader(fh)} == {"r1", "r2"}


def test_a_suite_whose_runs_are_gone_is_one_line(tmp_path):
    (tmp_path / "suite.json").write_text(json.dumps({"runs": ["gone"], "repeat": 1}))
    p = command("labs.analyze", str(tmp_path), "--json")
    assert p.returncode == 2 and "names runs that are not beside it" in p.stderr and p.stderr.count("\n") == 1
    assert json.loads(p.stdout)["exit"] == 2  # --json: a document even for bad input


def test_analyze_json_is_one_document_on_stdout(tmp_path):
    run = passing_run(tmp_path, "r1")
    p = command("labs.analyze", str(run), "--json")
    doc = json.loads(p.stdout)  # nothing else on stdout: the table is left out
    assert p.returncode == 0 and doc["exit"] == 0 and doc["summary"]["verdict"] == "pass"
    assert doc["schema_version"] == SCHEMA_VERSION and doc["folder"] == str(run)


def test_events_jsonl_has_a_header_and_ends_in_time_order(tmp_path):
    """Threads append events stamped with their own times; the file ends up sorted."""
    log = EventLog(tmp_path / "a.jsonl")
    log.record("vrrp", t=10.0, host="lvs1", instance="VI_1", state="MASTER")
    log.record("addr", t=12.0, host="lvs1")
    log.record("addr", t=11.0, host="lvs2")  # stamped earlier, appended later
    log.switch(tmp_path / "b.jsonl")
    log.record("fault", t=13.0, action="inject")
    log.record("addr", t=12.5, host="lvs2")
    log.close()
    for name, kinds_t in (("a", [10.0, 11.0, 12.0]), ("b", [10.0, 12.5, 13.0])):  # b: the VRRP state carried over
        rows = [json.loads(line) for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
        assert rows[0]["kind"] == "header" and rows[0]["schema_version"] == SCHEMA_VERSION
        assert rows[0]["t"] == kinds_t[0]  # the header sorts first by time too
        assert [r["t"] for r in rows[1:]] == kinds_t


def test_the_analysis_reads_events_with_and_without_the_header(tmp_path):
    run = passing_run(tmp_path, "r1")
    old = data.load(run).events  # the fixture writes the format before schema_version 3
    lines = (run / "events.jsonl").read_text()
    (run / "events.jsonl").write_text(json.dumps({"t": 0.0, "kind": "header", "schema_version": SCHEMA_VERSION}) + "\n"
                                      + lines)
    assert data.load(run).events == old and old


def test_the_probe_stats_carry_the_schema_version(tmp_path):
    from labs.probes.http import report

    report({"sent": 3}, tmp_path / "probe-stats.json")
    assert json.loads((tmp_path / "probe-stats.json").read_text()) == {"schema_version": SCHEMA_VERSION, "sent": 3}
