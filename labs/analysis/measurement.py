"""Did the run measure what it claims? The probe's own timing, judged against the model's
tolerance: a probe that sent late or sent too few requests makes the run's client
figures untrustworthy however the verdict came out ("disturbed": other work on the host,
most often). From the files alone: probes.csv and the probe's probe-stats.json."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from labs.analysis.data import Request
from labs.analysis.expectations import LATENCY

# Lateness bound: half the model's latency allowance. LATENCY (0.25 s) is all the slack a
# window has for signal delivery, event loops and the probe's grid together; a probe whose
# sends lag by more than half of it (p99 > 0.125 s) has used up most of that slack by
# itself, so a measured time that lands inside or outside a window by less than that says
# nothing about the cluster. (Undisturbed, p99 is 2-20 ms natively and under UML.)
LATE_P99_BOUND_S = LATENCY / 2
# Sending bound: 95% of the slots its grid asked for. A lagging probe catches up slot by
# slot, so sent < asked means it stopped while still behind (by (asked - sent) / rate
# seconds) or a process died; an on-time probe sends all it was asked (the slot racing
# the stop is not asked: labs.probes.http), and a restart's start-up is not asked either.
# 5% (the lab tests' bound on the achieved rate before this judgement) is then a lag of
# 0.5 s at the end of a 10-s process, twice the whole latency allowance: beyond it the
# error windows are measured across holes of the sample's own making.
SENT_SHARE_BOUND = 0.95
STATS = "probe-stats.json"


def judge(folder: Path, requests: Sequence[Request], probe: dict[str, Any]) -> dict[str, Any]:
    """The `measurement` of summary.json: p99 lateness and sent vs asked against their
    bounds, `disturbed` and `why` (empty when not). `probe` is summary.json's `probe`
    (lateness from probes.csv). Sent and asked are the probe's own counts over all its
    processes in the run (probe-stats.json); a folder without them counts probes.csv's
    rows against the span of its grid, which cannot see a probe that stopped behind."""
    out: dict[str, Any] = {"late_p99_s": probe.get("late_p99_s"), "late_bound_s": LATE_P99_BOUND_S,
                           "sent": None, "asked": None, "sent_bound": SENT_SHARE_BOUND, "counted_from": None,
                           "disturbed": False, "why": ""}
    if not requests:
        out["why"] = "no probe request was recorded: nothing to judge"
        return out
    stats = _stats(folder / STATS)
    if "run_asked" in stats:
        out.update(sent=stats["run_sent"], asked=stats["run_asked"], counted_from=STATS)
    elif probe.get("achieved_rate_per_vip") and probe.get("requested_rate_per_vip"):
        share = probe["achieved_rate_per_vip"] / probe["requested_rate_per_vip"]
        out.update(sent=len(requests), asked=round(len(requests) / share), counted_from="probes.csv")
    why = []
    late = out["late_p99_s"]
    if late is not None and late > LATE_P99_BOUND_S:
        why.append(f"probe p99 lateness {late * 1000:.0f} ms > {LATE_P99_BOUND_S * 1000:.0f} ms "
                   f"(half the model's {LATENCY * 1000:.0f} ms latency allowance)")
    if out["asked"]:
        share = out["sent"] / out["asked"]
        out["sent_share"] = round(share, 4)
        if share < SENT_SHARE_BOUND:
            why.append(f"probe sent {out['sent']} of {out['asked']} requests asked "
                       f"({share:.0%} < {SENT_SHARE_BOUND:.0%})")
    out["disturbed"] = bool(why)
    out["why"] = "; ".join(why)
    return out


def _stats(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
