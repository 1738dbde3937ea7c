"""The workshop guide (docs/workshop.md) against the real lab, through its machine-readable
twin docs/workshop.toml (labs.workshop): every claim of an exercise's prose about its
commands — verdicts, which VIP moves where, the model's windows, what clients saw — holds.

The exercises the TOML marks quick run in every test run, sharing labs as the runner does
(one `labs.run` for the scenario runs that differ only in their scenarios); all of them
with HALAB_WORKSHOP=all. An exercise another lab test already runs is skipped naming it."""
from __future__ import annotations

import os

import pytest

from labs import workshop

pytestmark = pytest.mark.halab_lab
GUIDE = workshop.load()
EVERYTHING = os.environ.get("HALAB_WORKSHOP") == "all"


def why_not(e: workshop.Exercise) -> str | None:
    if e.covered_by:
        return f"exercise {e.id} is run by {e.covered_by}"
    if not (e.quick or EVERYTHING):
        return f"exercise {e.id} takes about {e.minutes:g} min: HALAB_WORKSHOP=all runs it"
    return None


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> workshop.Report:
    """Every exercise this run covers, checked at once: shared labs, one report."""
    ids = [i for i, e in GUIDE.exercises.items() if why_not(e) is None]
    report = workshop.check(GUIDE, ids, tmp_path_factory.mktemp("workshop"))
    workshop.print_report(report, GUIDE)  # today's measured figures beside the guide's
    return report


@pytest.mark.parametrize("exercise", [pytest.param(i, marks=pytest.mark.skip(reason=why_not(e))) if why_not(e) else i
                                      for i, e in GUIDE.exercises.items()])
def test_the_guide_holds(report: workshop.Report, exercise: str) -> None:
    mine = [f for f in report.failures if f.startswith((f"exercise {exercise}:", f"exercise {exercise},"))]
    assert not mine, "\n".join(mine)
