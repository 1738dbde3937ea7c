"""The workshop guide as an executable document (labs.workshop): its TOML agrees with the
guide's text, the runner shares what it can, and a claim the lab contradicts is named."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO
from labs import workshop
from labs.common.errors import LabError

GUIDE = """\
# Workshop

Two exercises, about 4 minutes in all.

## 2. A graceful stop

About 3 minutes.

```
sudo python -m labs.run dual_master --scenario stop_keepalived --target lvs1
```

![stop](figures/stop_keepalived-timeline.png)

lvs2 takes .131 after 0.70 s (model window 0.69–0.94 s).

## 3. A crash

About 1 minute.

```
sudo python -m labs.run dual_master --scenario crash_keepalived
python -m labs.compare results/<one> results/<other>
```
"""

TOML = """\
[2]
title = "A graceful stop"
minutes = 3
quick = true
commands = ["sudo python -m labs.run dual_master --scenario stop_keepalived --target lvs1"]
figures = [{ name = "stop_keepalived-timeline.png", command = 1, file = "timeline.png" }]

[[2.claims]]
says = "lvs2 takes .131 inside the model's window"
command = 1
scenario = "stop_keepalived"
expectation = "move"
vip = "192.168.56.131"
equals = { from = "lvs1", to = "lvs2" }
window = "0.69–0.94"
measured = "0.70 s"

[[2.claims]]
says = ".132 is not touched"
command = 1
scenario = "stop_keepalived"
clients = "192.168.56.132"
equals = { failed = 0 }

[3]
title = "A crash"
minutes = 1
quick = false
commands = ["sudo python -m labs.run dual_master --scenario crash_keepalived"]
not_run = { "python -m labs.compare results/<one> results/<other>" = "needs the folders of two runs" }

[[3.claims]]
says = "the crash passes"
command = 1
scenario = "crash_keepalived"
equals = { verdict = "pass" }
"""


def write(tmp_path, toml=TOML, guide=GUIDE):
    (tmp_path / "w.toml").write_text(toml)
    (tmp_path / "w.md").write_text(guide)
    return workshop.load(tmp_path / "w.toml", tmp_path / "w.md")


def test_the_guide_and_its_toml_agree():
    """docs/workshop.toml loads against docs/workshop.md: every section has its table,
    every command, session line, window, measured figure, duration and figure it names is
    in that section, and the opening states the sum of the durations."""
    guide = workshop.load()
    ids = list(guide.exercises)
    assert ids[:3] == ["1", "1b", "2"] and "15" in ids
    assert guide.quick and set(guide.quick) < set(ids)
    every = {f.name for e in guide.exercises.values() for f in e.figures}
    assert every == {p.name for p in (REPO / "docs" / "figures").glob("*.png")}, "each figure is made by a command"
    for e in guide.exercises.values():
        assert e.claims or e.sessions, f"exercise {e.id} claims nothing"
        if e.covered_by:  # the lab test that already runs it says which exercise it is
            assert f"Exercise {e.id}" in (REPO / e.covered_by).read_text()


def test_a_small_guide_loads(tmp_path):
    guide = write(tmp_path)
    assert guide.quick == ["2"] and guide.minutes == 4
    (claim, _) = guide.exercises["2"].claims
    assert claim.window == "0.69–0.94" and claim.equals == {"from": "lvs1", "to": "lvs2"}


@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace('minutes = 3\n', '', 1), "[2] lacks `minutes`"),
    (lambda t: t.replace('quick = true', 'quick = true\nquik = true'), "[2] has unknown key(s) `quik`"),
    (lambda t: t.replace('--target lvs1"]', '--target lvs2"]'), "is not a line of the guide's section 2"),
    (lambda t: t.replace('window = "0.69–0.94"', 'window = "0.69–1.03"'), "does not say '0.69–1.03'"),
    (lambda t: t.replace('minutes = 3', 'minutes = 2'), 'does not say it takes "About 2 minutes"'),
    (lambda t: t.replace('not_run = { "python -m labs.compare results/<one> results/<other>" = '
                         '"needs the folders of two runs" }\n', ''), "prints `python -m labs.compare"),
    (lambda t: t.replace('command = 1\nscenario = "crash_keepalived"', 'command = 2\nscenario = "crash_keepalived"'),
     "no command 2 in the exercise"),
    (lambda t: t.replace('scenario = "crash_keepalived"\n', ''), "say what it reads"),
    (lambda t: t.replace('[3]', '[4]').replace('[[3.claims]]', '[[4.claims]]'), "no table for the guide's section(s) 3"),
    (lambda t: t + '[9]\ntitle = "x"\nminutes = 1\nquick = false\n', "[9]: the guide has no section 9"),
])
def test_a_toml_that_disagrees_with_the_guide_is_one_line(tmp_path, change, message):
    with pytest.raises(LabError) as e:
        write(tmp_path, change(TOML))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_the_opening_states_the_total(tmp_path):
    with pytest.raises(LabError, match='does not say the exercises take "about 4 minutes"'):
        write(tmp_path, guide=GUIDE.replace("about 4 minutes", "about 5 minutes"))


def test_shared_runs_and_runs_as_typed():
    """Scenario runs differing only in their scenarios share one labs.run (a target that
    is each scenario's default is dropped); a user's scenario file keeps its target and
    its own working folder; --as-typed runs each command as printed."""
    guide = workshop.load()
    shared = workshop.plan(guide.select(["2", "3", "4", "11"]), share=True)
    default = next(j for j in shared if "stop_keepalived" in j.scenarios)
    assert default.argv == ["dual_master"] and {"crash_keepalived", "nginx_down"} <= set(default.scenarios)
    assert {u[0] for u in default.uses} == {"2", "3", "4"}
    (mine,) = [j for j in shared if j.files]
    assert mine.full_argv() == ["dual_master", "--target", "lvs2", "--scenario", "./my_fault.py"]
    typed = workshop.plan(guide.select(["2"]), share=False, repeat=3)
    as_typed = ["dual_master", "--scenario", "stop_keepalived", "--target", "lvs1", "--repeat", "3"]
    assert [j.full_argv() for j in typed] == [as_typed]


def outcome(tmp_path, vip_up=0.70, failed_on_132=False):
    """A results root as labs.run leaves it: stop_keepalived analysed from its files (lvs2
    has .131 `vip_up` s after the stop), and a crash_keepalived run that failed."""
    from labs.analyze import analyze
    from unit.analysis_fixture import T0, events, folder, graceful_lvs1, outage_until, probes

    root = tmp_path / "results"
    root.mkdir(parents=True)
    made = folder(tmp_path / "made", "stop_keepalived", "lvs1")
    events(made, [*graceful_lvs1(vip_up), {"t": T0 + 20, "kind": "end"}])
    lost = outage_until(vip_up)
    probes(made, -3, 20, lambda vip, source, t: ("", None, "timeout") if failed_on_132 and vip.endswith(".132")
           and 0 <= t < 0.5 else lost(vip, source, t))
    made.rename(root / "20261205T000000Z-dual_master-stop_keepalived")
    analyze(root / "20261205T000000Z-dual_master-stop_keepalived")
    crash = root / "20261205T000100Z-dual_master-crash_keepalived"
    crash.mkdir()
    (crash / "summary.json").write_text(json.dumps({"scenario": "crash_keepalived", "verdict": "fail", "phases": []}))
    return workshop.Outcome(1, "", 1.0, root)


def judged(tmp_path, out):
    guide = write(tmp_path)
    report = workshop.Report()
    uses = {("2", "command 1"): out, ("3", "command 1"): out}
    workshop.judge(list(guide.exercises.values()), uses, report)
    return report


def test_claims_that_hold(tmp_path):
    report = judged(tmp_path, outcome(tmp_path))
    assert report.failures == ["exercise 3: the crash passes: `verdict` is 'fail' (the guide: 'pass')"]
    assert report.held == 2
    assert report.measured == ["exercise 2: lvs2 takes .131 inside the model's window: measured_s 0.70 (the guide: 0.70 s)"]


def test_a_claim_the_lab_contradicts_is_named_with_the_exercise(tmp_path):
    """lvs2 got .131 only after 1.2 s, later than the run's window allows, and clients of
    .132 failed: each claim that does not hold is one line naming its exercise."""
    report = judged(tmp_path, outcome(tmp_path, vip_up=1.2, failed_on_132=True))
    assert report.failures[:2] == [
        "exercise 2: lvs2 takes .131 inside the model's window: measured 1.20 s, outside the run's window 0.69–0.94 s",
        "exercise 2: .132 is not touched: `failed` is 5 (the guide: 0)"]


def test_a_window_the_timers_no_longer_give_is_named(tmp_path):
    """The guide's window is compared with the model's from the run's configs without the
    run's own costs: a changed timer shows, a slow machine does not."""
    guide = write(tmp_path, TOML.replace('"0.69–0.94"', '"0.59–0.94"'), GUIDE.replace("0.69–0.94", "0.59–0.94"))
    report = workshop.Report()
    workshop.judge([guide.exercises["2"]], {("2", "command 1"): outcome(tmp_path / "again")}, report)
    assert report.failures == ["exercise 2: lvs2 takes .131 inside the model's window: the model's window is 0.69–0.94 s "
                               "(the guide: 0.59–0.94 s)"]
    obj = {"_base": (0.6875, 0.9375), "model": {"earliest_s": 0.6875, "latest_s": 1.0275}, "measured_s": 1.0}
    assert workshop.window_problems("0.69–0.94", obj) == []  # a slow process start widens the run's window only
    assert workshop.window_problems("0.7–0.9", obj) == []  # as precise as printed
    assert workshop.window_problems("0.7–1.0", obj) == ["the model's window is 0.7–0.9 s (the guide: 0.7–1.0 s)"]


def test_a_command_that_did_not_run_is_named(tmp_path):
    out = outcome(tmp_path)
    out.exit = 2
    report = judged(tmp_path, out)
    assert "exercise 2: `sudo python -m labs.run dual_master --scenario stop_keepalived --target lvs1` ended with exit 2, " \
           "not a run" in report.failures


@pytest.mark.parametrize("argv, message", [
    (["check", "99"], "no exercise 99 in workshop.toml; the exercises: 1, 1b, 2,"),
    (["check"], "name the exercises (e.g. 2 5b), or give --all or --quick alone"),
    (["check", "--all", "2"], "name the exercises"),
    (["check", "2", "--repeat", "0"], "--repeat 0: give a count of 1 or more"),
    (["figures", "nope.png"], "no figure nope.png in workshop.toml; the figures: "),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, tmp_path):
    p = subprocess.run([sys.executable, "-m", "labs.workshop", *argv, "--results", str(tmp_path)], cwd=REPO,
                       capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and message in p.stderr, p.stderr
    assert p.stdout == "" and list(tmp_path.iterdir()) == []  # nothing ran, nothing was made


def test_the_prompt_matches_both_forms():
    import re

    assert re.match(workshop.PROMPT, "halab (probing)> ") and re.match(workshop.PROMPT, "halab> ")


def test_figures_copies_each_png_its_command_drew_and_judges_that_run(tmp_path, monkeypatch):
    """`figures` runs the figure's command as printed (here: a results root made by hand),
    copies the PNG under the figure's name and judges the claims of that command."""
    guide = write(tmp_path)
    ran = []

    def run_all(jobs, root, say):
        ran.extend(j.full_argv() for j in jobs)
        out = outcome(tmp_path)
        (out.results / "20261205T000000Z-dual_master-stop_keepalived" / "timeline.png").write_bytes(b"png")
        return {use: out for j in jobs for use in j.uses}

    monkeypatch.setattr(workshop, "_run_all", run_all)
    dest = tmp_path / "figures"
    dest.mkdir()
    report = workshop.figures(guide, [], tmp_path / "root", dest, say=lambda line: None)
    assert ran == [["dual_master", "--scenario", "stop_keepalived", "--target", "lvs1"]]  # as typed, not shared
    assert (dest / "stop_keepalived-timeline.png").read_bytes() == b"png"
    assert report.failures == [] and report.held == 2  # exercise 2's claims; exercise 3 draws no figure
    with pytest.raises(LabError, match="no figure nope.png in w.toml|no figure nope.png in workshop.toml"):
        workshop.figures(guide, ["nope.png"], tmp_path / "root", dest)


def test_a_bench_claim_reads_the_bench_json_its_command_wrote(tmp_path):
    """Exercise 10's claim: every count of servers converged; a count that failed has no
    `converged_after_s`, only its error, and the claim names it."""
    folder = tmp_path / "results" / "bench" / "20261205T000000Z"
    folder.mkdir(parents=True)
    rows = [{"servers": 2, "converged_after_s": 6.8}, {"servers": 64, "error": "did not converge"}]
    (folder / "bench.json").write_text(json.dumps({"scale": rows}))
    claim = workshop.Claim(says="every count converges", command=1, bench="scale", at_least={"converged_after_s": 0.0})
    out = workshop.Outcome(0, "", 1.0, tmp_path / "results")
    assert workshop.claim_problems(claim, out) == ["no `converged_after_s`"]
    assert workshop.measured_values(workshop.Claim(says="x", command=1, bench="scale", field="converged_after_s"), out) \
        == [6.8]
