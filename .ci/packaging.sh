#!/usr/bin/env bash
# The package as a user installs it: a wheel built from the checkout, installed into a fresh
# virtual environment (with the system's site packages, where Debian puts Mininet), used
# from outside the checkout: `halab`, analysis and plots of a run folder, the pytest plugin.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$repo/build" "$repo/halab.egg-info"' EXIT  # the wheel build's leftovers too
/usr/bin/python3 -m pip wheel . --no-deps -q -w "$tmp/wheel"
/usr/bin/python3 -m venv --system-site-packages "$tmp/venv"
"$tmp/venv/bin/pip" install -q --no-deps "$tmp"/wheel/halab-*.whl
# a hand-made run folder (the unit tests' fixture), analysed and drawn by the installed copy
/usr/bin/python3 - "$tmp/run" <<'PY'
import sys
sys.path[:0] = ["tests", "."]
from pathlib import Path
from unit.analysis_fixture import T0, events, folder, graceful_lvs1, outage_until, probes
results = folder(Path(sys.argv[1]), "stop_keepalived", "lvs1")
events(results, [*graceful_lvs1(0.70), {"t": T0 + 20, "kind": "end"}])
probes(results, -3, 20, outage_until(0.7))
PY
cp examples/test_my_cluster.py "$tmp/"
cd "$tmp"
venv/bin/halab --version
venv/bin/halab --help > /dev/null
venv/bin/halab analyze run/run | tail -1
venv/bin/halab plot run/run
test -s run/run/report.html
venv/bin/python -c "import labs, sys; assert 'site-packages' in labs.__file__, labs.__file__"
venv/bin/python -m pytest -q -p no:cacheprovider test_my_cluster.py
# The unit tests with only what pip brings (no Debian packages: no Mininet, keepalived,
# nginx): the wheel with its dependencies and the test extra in a venv of its own; tests
# that need the lab's programs skip and say why.
/usr/bin/python3 -m venv "$tmp/pipvenv"
"$tmp/pipvenv/bin/pip" install -q "$(ls "$tmp"/wheel/halab-*.whl)[test]"
cd "$repo"
"$tmp/pipvenv/bin/python" -m pytest -q -p no:cacheprovider -o addopts= tests/unit | tail -3
