"""Markers: `halab_lab` tests bring up the real lab, natively where the kernel has IPVS and we
are root, else through User-mode Linux (the marker and its skip belong to the halab pytest
plugin); `root` tests need root on the host kernel and the lab's programs."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    # An installed halab registers its plugin itself (entry point pytest11); a checkout loads it
    # here, while options are gathered: loaded in pytest_configure, its --halab-* options would
    # come after the command line is parsed, unknown to it.
    if not pluginmanager.has_plugin("halab") and not pluginmanager.has_plugin("labs.pytest_plugin"):
        pluginmanager.import_plugin("labs.pytest_plugin")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from labs.common import requirements
    from labs.common.errors import LabError

    rooted = [item for item in items if "root" in item.keywords]
    try:
        requirements.check() if rooted else None
        problem = None if os.geteuid() == 0 else "needs root (run the tests with sudo)"
    except LabError as e:
        problem = str(e)
    for item in rooted if problem else []:
        item.add_marker(pytest.mark.skip(reason=problem))
