"""A scenario module is read once, into a checked `Scenario` record: what it lacks or has
wrong is one line at load time, its optional constants get their defaults, and the
listings show what the modules declare."""
from __future__ import annotations

import dataclasses
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from labs.plan import scenario
from labs.common.errors import LabError
from labs.plan.targets import ByRole
from topologies import dual_master

MINE = '''"""mine: a user's own fault."""
from labs.plan.targets import ByRole

TARGETS = ByRole(("director",))


def inject(lab, target):
    pass


heal = None


def expect(model, target):
    return []
'''
SHAPE = "; see scenarios/stop_keepalived.py for the shape"


def user_file(tmp_path: Path, text: str = MINE) -> Path:
    path = tmp_path / "mine.py"
    path.write_text(text)
    return path.resolve()


def refusal(path: Path) -> str:
    with pytest.raises(LabError) as e:
        scenario.load(str(path))
    assert "\n" not in str(e.value)
    return str(e.value)


def test_a_file_lacking_expect_is_one_line(tmp_path):
    path = user_file(tmp_path, MINE[:MINE.index("def expect")])
    assert refusal(path) == f"scenario {path} lacks expect{SHAPE}"


def test_fixed_names_need_a_default_among_them(tmp_path):
    fixed = MINE.replace('ByRole(("director",))', '("lvs1", "lvs2")')
    assert refusal(user_file(tmp_path, fixed)).endswith(f"lacks DEFAULT_TARGET{SHAPE}")
    assert "DEFAULT_TARGET = 'lvs3', not one of its TARGETS (lvs1, lvs2)" in refusal(
        user_file(tmp_path, fixed + 'DEFAULT_TARGET = "lvs3"\n'))
    mine = scenario.load(str(user_file(tmp_path, fixed + 'DEFAULT_TARGET = "lvs2"\n')))
    assert (mine.targets(dual_master.spec()), mine.default_target(dual_master.spec())) == (("lvs1", "lvs2"), "lvs2")


def test_a_by_role_default_is_not_named_again(tmp_path):
    path = user_file(tmp_path, MINE + 'DEFAULT_TARGET = "lvs2"\n')
    assert "TARGETS = ByRole(...), which sets the default (its first role's first host): drop DEFAULT_TARGET" in refusal(path)


@pytest.mark.parametrize("change, says", [
    (('ByRole(("director",))', '"lvs1"'), "has TARGETS = 'lvs1': give a labs.plan.targets.ByRole or a tuple of target names"),
    (("heal = None", "heal = 1"), "has heal = 1: it must be a function, or None when nothing is to heal"),
    (("heal = None", 'heal = None\nOBSERVE_S = "8"'), "has OBSERVE_S = '8': give a number of seconds, 0 or more"),
    (("heal = None", "heal = None\nCONNECTIONS = 2.5"), "has CONNECTIONS = 2.5: give a count, 0 or more"),
    (("heal = None", "heal = None\nNEEDS_PROBE = 1"), "has NEEDS_PROBE = 1: give True or False"),
])
def test_a_part_of_the_wrong_kind_is_one_line(tmp_path, change, says):
    path = user_file(tmp_path, MINE.replace(*change))
    assert refusal(path) == f"scenario {path} {says}{SHAPE}"


def test_defaults_apply(tmp_path):
    path = user_file(tmp_path)
    mine = scenario.load(str(path))
    assert (mine.name, mine.source, mine.summary) == ("mine", str(path), "a user's own fault.")
    assert mine.heal is None and mine.default is None and mine.rule == ByRole(("director",))
    assert (mine.needs_probe, mine.observe_s, mine.baseline_s) == (False, 0.0, 0.0)
    assert (mine.connections, mine.connection_interval, mine.open_over_s) == (0, 0.1, 0.0)
    declared = scenario.load("director_failover")
    assert (declared.connections, declared.connection_interval, declared.open_over_s) == (20, 0.1, 8.0)
    assert (declared.baseline_s, declared.observe_s) == (7.0, 4.0)
    assert scenario.load("persistence").needs_probe


def test_a_relative_path_is_recorded_absolute(tmp_path, monkeypatch):
    """run.json's `scenario` is read again by the analysis, from another folder."""
    path = user_file(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert scenario.load("mine.py").source == str(path)


def test_the_catalogue_matches_the_modules():
    spec = dual_master.spec()
    listed = scenario.catalogue(spec)
    assert [e.name for e in listed] == scenario.names() == sorted(p.stem for p in (REPO / "scenarios").glob("[!_]*.py"))
    for entry in listed:
        module = importlib.import_module(f"scenarios.{entry.name}")
        rule = module.TARGETS
        assert entry.summary == " ".join(module.__doc__.split("\n\n")[0].split()).removeprefix(f"{entry.name}: ")
        assert entry.targets == (rule.targets(spec) if isinstance(rule, ByRole) else rule)
        assert entry.default == (rule.default(spec) if isinstance(rule, ByRole) else module.DEFAULT_TARGET)


def test_the_catalogue_of_a_lab_without_a_role_has_no_default_there():
    spec = dataclasses.replace(dual_master.spec(), hosts=dual_master.spec().directors)
    by_name = {e.name: e for e in scenario.catalogue(spec)}
    assert (by_name["kill_nginx"].targets, by_name["kill_nginx"].default) == ((), None)
    assert by_name["stop_keepalived"].default == "lvs1"


def test_loading_imports_no_lab_runtime():
    """The analysis loads scenarios for their expectations on machines without Mininet."""
    code = ("import sys; from labs.plan import scenario; scenario.load('stop_keepalived').expect; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mininet', 'pyroute2') or m.startswith('labs.lab')))")
    p = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == "[]", p.stderr
