"""halab from Python, top to bottom: open the seed article's lab, run a scenario on it, then
break and heal it step by step, reading each judged result (docs/api.md).

Run it as a script (`sudo python examples/api_tour.py`, or with PYTHONPATH=. from a checkout
that is not installed) or cell by cell (`# %%`) in an editor that knows them; a notebook
needs root and a kernel with IPVS, since the lab runs in its own process.
"""
# %% Where the lab can run: here (root and IPVS), else this script again inside User-mode Linux
import argparse
import sys
from pathlib import Path

from labs import api

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--results", type=Path, default=Path("results"), help="where run folders go (default results/)")
args = parser.parse_args()
api.here(results_root=args.results)

# %% The seed article's lab (settings={"advert_int": "2"} would be --set advert_int=2)
verdicts = []
with api.open_lab("dual_master", results_root=args.results) as lab:
    # %% One scenario run, judged: keepalived stopped on lvs1, .131 moves to lvs2 and back
    run = lab.run("stop_keepalived", target="lvs1")
    print(run.table())
    print(f"failover of .131: {run.failover('192.168.56.131')} s; clients failed: "
          f"{run.clients('192.168.56.131')['failed']} requests")
    run.timeline().savefig(run.folder / "timeline-from-the-api.png")
    verdicts.append(run.verdict)

    # %% Step by step, as in `--cli`: each phase judged once the model's window has passed
    with lab.steps() as session:
        injected = session.fail("stop_keepalived", "lvs2")  # .132 moves to lvs1
        print(f"stopped: {injected.verdict} {injected.failures}")
        print(session.status())
        healed = session.heal()  # lvs2 takes .132 back
        print(f"restarted: {healed.verdict if healed else 'nothing to heal'} {healed.failures if healed else ''}")
        verdicts += [injected.verdict, healed.verdict if healed else "pass"]
    print(f"session: {session.result().folder}")

# %% The lab is torn down; every verdict against the model
print(f"verdicts: {verdicts}")
sys.exit(0 if all(v == "pass" for v in verdicts) else 1)
