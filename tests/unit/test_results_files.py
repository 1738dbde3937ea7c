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


def test_run_json_records_the_command_typed_and_a_run_id(tmp_path, monkeypatch):
    """A job of --jobs N runs `labs.run ... --part /tmp/halab-jobs-…/job0.json --cpu 0`;
    its run.json (and report.html) shows what the user typed."""
    from labs.common import results
    from labs.lab import jobs

    monkeypatch.delenv(results.COMMAND_ENV, raising=False)
    typed = ["dual_master", "--jobs", "2"]
    env = jobs.job_env(typed)
    monkeypatch.setenv(results.COMMAND_ENV, env[results.COMMAND_ENV])
    run = tmp_path / "20260101T000000Z-dual_master-link_down"
    run.mkdir()
    results.write_run_info(run, ["dual_master", "--part", "/tmp/halab-jobs-x/job0.json", "--cpu", "0"], "uml", "test")
    info = json.loads((run / "run.json").read_text())
    assert info["command"][1:] == ["-m", "labs.run", *typed] and info["run_id"] == run.name
    assert info["schema_version"] == SCHEMA_VERSION


def test_the_run_id_survives_a_rename(tmp_path):
    run = passing_run(tmp_path, "r1")
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "run_id": "20260101T000000Z-dual_master-stop_keepalived"}))
    copy = run.rename(run.with_name("my-copy"))
    p = command("labs.analyze", str(copy), "--json")
    assert json.loads(p.stdout)["summary"]["run_id"] == "20260101T000000Z-dual_master-stop_keepalived"
    with open(copy / "expectations.csv", newline="") as fh:
        assert {row["run"] for row in csv.DictReader(fh)} == {"20260101T000000Z-dual_master-stop_keepalived"}


def test_junit_names_are_stable_and_timed(tmp_path):
    """CI follows a test case by its name: no timestamped folder in it."""
    import xml.etree.ElementTree as ET

    from labs.analyze import analyze
    from labs.report import junit

    run = passing_run(tmp_path, "20260101T000000Z-dual_master-stop_keepalived")
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "started": 990.0}))  # the fixture's end event is missing:
    summary = analyze(run)  # its last event (the heal's at 1013.9) ends it
    assert summary["duration_s"] == 23.9
    failed = {"scenario": "link_down", "target": "lvs1", "verdict": "fail", "reason": "bring-up failed", "phases": []}
    out = tmp_path / "junit.xml"
    junit.write(out, "dual_master", [run, run, run.with_name("other")], [summary, summary, failed])
    cases = ET.parse(out).getroot().findall("testcase")
    assert [c.get("name") for c in cases] == ["stop_keepalived@lvs1", "stop_keepalived@lvs1 #2", "link_down@lvs1"]
    assert [c.get("time") for c in cases] == ["23.900", "23.900", "0.000"]
    props = {p.get("name"): p.get("value") for p in cases[0].iter("property")}
    assert props == {"run_folder": str(run), "run_id": run.name}


def test_expectations_json_names_fields_as_summary_json_and_reads_the_old_names(tmp_path):
    """Schema 3: `from`/`to` and `earliest_s`/`latest_s` in both files; a folder from
    schema 2 (`from_host`/`to_host`, `earliest`/`latest`) re-analyses the same."""
    from labs.analyze import analyze

    run = passing_run(tmp_path, "r1")
    doc = json.loads((run / "expectations.json").read_text())
    (move,) = [e for e in doc["expectations"] if e["kind"] == "move" and e["phase"] == "inject"]
    assert move["from"] == "lvs1" and move["to"] == "lvs2" and "from_host" not in move
    assert set(move["window"]) == {"earliest_s", "latest_s", "basis"}
    new = analyze(run)
    (judged,) = [e for p in new["phases"] for e in p["expectations"] if e["kind"] == "move" and p["phase"] == "inject"]
    assert (judged["from"], judged["to"]) == (move["from"], move["to"])

    renames = {"from": "from_host", "to": "to_host"}

    def old(row: dict) -> dict:
        row = {renames.get(k, k): v for k, v in row.items()}
        for key, v in row.items():
            if isinstance(v, dict) and "earliest_s" in v:
                row[key] = {"earliest": v["earliest_s"], "latest": v["latest_s"], "basis": v["basis"]}
        return row

    rows = [old(e) for e in doc["expectations"]]
    (run / "expectations.json").write_text(json.dumps({"schema_version": 2, "expectations": rows}))
    assert analyze(run)["phases"] == new["phases"]


def test_compare_json_is_one_document_with_numbers(tmp_path):
    a, b = passing_run(tmp_path, "a"), passing_run(tmp_path, "b")
    p = command("labs.compare", str(a), str(b), "--json")
    doc = json.loads(p.stdout)
    assert p.returncode == 0 and doc["exit"] == 0 and doc["schema_version"] == SCHEMA_VERSION
    assert (doc["a"]["folder"], doc["b"]["verdict"]) == (str(a), "pass")
    moved = [c for c in doc["changes"] if c["phase"] == "inject" and c["figure"].endswith("lvs1->lvs2")]
    assert moved and moved[0]["delta"] == 0 and isinstance(moved[0]["a"], float)
    assert Path(doc["chart"]).exists()
