"""A run SIGKILLed with its daemons running leaves namespaces and processes behind; the
next run finds its record and removes exactly those. Run inside one User-mode Linux (or
natively) so both runs share a kernel, as two runs on one machine do."""
from __future__ import annotations

import io
import re
import shlex
import sys

import pytest

from lab.helpers import REPO
from labs import kernel
from labs.kernel import uml

pytestmark = pytest.mark.halab_lab


def test_next_run_removes_a_killed_runs_leftovers(tmp_path):
    if kernel.choose("auto").backend != "uml":
        pytest.skip("written for the UML path: natively it would kill a lab on the host kernel on purpose")
    py = shlex.quote(sys.executable)
    first = tmp_path / "first.log"
    script = f"""
        cd {shlex.quote(str(REPO))}
        {py} -m labs.run dual_master --check --kernel native --results {tmp_path} > {first} 2>&1 &
        pid=$!
        for i in $(seq 1 900); do grep -q 'starting daemons' {first} && break; sleep 0.1; done
        sleep 3
        kill -9 $pid
        sleep 1
        echo "left: netns=$(ls /run/netns | wc -l) record=$(test -e /run/halab/record.json && echo yes)"
        {py} -m labs.run dual_master --check --kernel native --results {tmp_path}
        echo "second exit $?"
        echo "after: netns=$(ls /run/netns | wc -l) record=$(test -e /run/halab/record.json && echo yes || echo no)"
    """
    out = io.StringIO()
    status = uml.run(["sh", "-c", script], uml.host_cpu(), out=out)
    text = out.getvalue()
    print(text)
    assert status == 0
    assert "left: netns=5 record=yes" in text, "the killed run left its five named namespaces and its record"
    assert "removed a previous run's leftover: namespace lvs1" in text
    assert re.search(r"leftover: [1-9]\d* process\(es\) in the lab's namespaces", text), "its daemons were still running"
    assert "second exit 0" in text and "after: netns=0 record=no" in text
