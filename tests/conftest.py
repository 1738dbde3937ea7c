"""Markers: `root` tests need root on this kernel; `lab` tests bring up the real lab,
natively where the kernel has IPVS and we are root, else through User-mode Linux."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from labs import kernel, requirements  # noqa: E402
from labs.errors import LabError  # noqa: E402


def _lab_problem() -> str | None:
    try:
        kernel.choose("auto")
    except LabError as e:
        return str(e)
    return None


def pytest_configure(config: pytest.Config) -> None:
    try:
        requirements.check()
    except LabError as e:
        raise pytest.UsageError(str(e)) from None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    lab_problem = _lab_problem()
    for item in items:
        if "lab" in item.keywords and lab_problem:
            item.add_marker(pytest.mark.skip(reason=f"no kernel backend for the lab: {lab_problem}"))
        if "root" in item.keywords and os.geteuid() != 0:
            item.add_marker(pytest.mark.skip(reason="needs root (run the tests with sudo)"))
